"""The chat page (`rag.chat.page`): `python app.py [--index DIR] [--port N]`, as `rag serve`; the Space runs this."""

from rag.chat.page import main

if __name__ == "__main__":
    main()
