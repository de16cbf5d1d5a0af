"""The control center's widgets: each renders what it is given and fetches nothing."""
