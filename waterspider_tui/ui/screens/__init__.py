"""Screens of the control center: the queues, the DAG, and the modals over them."""
