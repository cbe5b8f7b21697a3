"""Start the chat page and the HTTP API over the bundled corpus: ``python app.py``
(the page at http://127.0.0.1:7860, the OpenAI-compatible API at http://127.0.0.1:7860/v1).

Settings come from the defaults and ``RAG_*`` variables (``RAG_PORT=8000``). Indexing is
incremental, so a second start is instant. To serve beyond this machine set ``RAG_HOST``
and a login: ``APP_AUTH=user:password`` and/or ``RAG_API_TOKEN``.
"""

import os

from rag.assistant import Assistant
from rag.settings import Settings
from rag.store import StoreError
from rag.server import check_binding, serve

if __name__ == "__main__":
    settings = Settings.load()
    try:
        check_binding(settings, os.environ.get("APP_AUTH"))  # refuse early, before indexing
    except ValueError as error:
        raise SystemExit(f"app.py: {error}") from None
    assistant = Assistant(settings)
    try:
        assistant.index_files([settings.corpus_dir], progress=True)
    except StoreError as error:  # e.g. an index built by an older version: say how to rebuild
        raise SystemExit(f"app.py: {error}") from None
    serve(settings, auth=os.environ.get("APP_AUTH"), assistant=assistant)
