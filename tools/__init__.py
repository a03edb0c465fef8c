"""The book's build helpers, importable as ``tools.launch``, ``tools.notebooks``, ``tools.course``.

``tools.launch`` is the Sphinx extension, ``tools.notebooks`` turns MyST notebooks into plain
ones, and ``tools.course`` makes the student edition and the assignments. Import them with the
repository root on ``sys.path``; run them as ``python tools/course.py ...``.
"""
