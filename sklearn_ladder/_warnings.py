"""Warnings that point at the user's line: the call into the library, not a line of it.

A fit reaches a warning through many frames (scikit-learn's ``_fit_context`` wrapper,
``fit``, the plan, the scaler; a ``Pipeline``, ``GridSearchCV`` or ``cross_val_score``
above them), so no fixed ``stacklevel`` is right. As pandas' ``find_stack_level`` does,
the level is found by walking the stack out of the libraries; Python 3.12's
``skip_file_prefixes`` does the same, but the package supports 3.10.
"""

import os
import sys
import warnings

import joblib
import sklearn

__all__ = ["warn_user"]

# Frames in these folders are the libraries' own; the first frame outside is the user's.
_LIBRARY_DIRS = tuple(os.path.dirname(path) + os.sep
                      for path in (__file__, sklearn.__file__, joblib.__file__))


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` from the first frame outside this package,
    scikit-learn and joblib (the outermost frame if every frame is theirs)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    del frame  # a frame kept in a local would keep the whole stack alive
    warnings.warn(message, category, stacklevel=level + 1)
