"""The book's build helpers, importable as ``tools.launch``, ``tools.notebooks``, ``tools.course``.

``tools.myst`` reads MyST with the book's parser; ``tools.launch``, ``tools.pages`` and
``tools.assets`` are Sphinx extensions (launch buttons, the notebook of each page, what each
page loads); ``tools.notebooks`` turns MyST notebooks into plain ones, ``tools.publish``
assembles the notebooks branch, and ``tools.course`` makes the student edition and the
assignments. Import them with the repository root on ``sys.path``; run them as
``python tools/course.py ...``.
"""
