"""The chat page (`rag.app`): `python app.py [--index DIR] [--port N]`, as `rag serve`; the Space runs this."""

from rag.app import main

if __name__ == "__main__":
    main()
