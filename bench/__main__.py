"""``python -m bench``: run the whole benchmark once, print the table, write build/bench.json."""

from bench.run import main

if __name__ == "__main__":
    main()
