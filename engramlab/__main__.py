"""``python -m engramlab``: the same command line as the ``engramlab`` script."""

from engramlab.cli import main

if __name__ == "__main__":
    main()
