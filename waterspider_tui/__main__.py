"""`python -m waterspider_tui` runs the command line."""

from waterspider_tui.cli import main

if __name__ == "__main__":
    main()
