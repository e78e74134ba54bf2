"""Sphinx configuration of the sklearn-ladder documentation."""

import re

import sklearn_ladder

project = "sklearn-ladder"
author = "sklearn-ladder developers"
release = version = sklearn_ladder.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
autosummary_generate = True
# Our own members, also those our estimators inherit from our base class; scikit-learn's
# mixins' docstrings refer to labels of scikit-learn's site, which this one does not have,
# and torch's are not in numpydoc's format.
autodoc_default_options = {
    "members": True,
    "inherited-members": ",".join([
        "BaseEstimator", "ClassifierMixin", "RegressorMixin", "TransformerMixin",
        "ClassNamePrefixFeaturesOutMixin", "OneToOneFeatureMixin", "BaseCrossValidator",
        "_SetOutputMixin", "_MetadataRequester", "_HTMLDocumentationLinkMixin",
        # LadderGridSearchCV's predict, score, ... are scikit-learn's search's own.
        "BaseSearchCV", "GridSearchCV", "MetaEstimatorMixin",
        # torch's nn.Module, base of the combinators: its docstrings are not numpydoc.
        "Module",
    ]),
    # scikit-learn generates these metadata-routing setters on every estimator class.
    "exclude-members": ",".join(
        f"set_{method}_request" for method in
        ("fit", "score", "transform", "predict", "predict_proba", "inverse_transform",
         "partial_fit", "split")
    ),
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py",  # execute every example: their output is the point
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = "sklearn-ladder"
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    # Example pages have one section each: a table of contents there only takes width.
    "secondary_sidebar_items": {
        **{page: ["page-toc", "sourcelink"]
           for page in ("index", "user_guide", "api", "benchmarks", "architecture")},
        "auto_examples/**": [],
    },
}
# Single-page sections have no sub-pages to list: no empty left sidebar there.
html_sidebars = {page: [] for page in ("index", "user_guide", "benchmarks", "architecture")}


def _plain_glossary_terms(app, what, name, obj, options, lines):
    """scikit-learn's inherited docstrings link terms of its own glossary, which this site
    does not have: show them as literals."""
    lines[:] = [re.sub(r":term:`([^`<]*)(?:<[^>]*>)?`", r"``\1``", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_glossary_terms)
