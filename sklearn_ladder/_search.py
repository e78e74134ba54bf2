"""A grid search that trains the candidates × folds of a ladder as batches of models."""

import time
import traceback
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    check_cv,
)
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import (
    _insert_error_scores,
    _score,
    _warn_or_raise_about_fit_failures,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils._param_validation import Interval
from sklearn.utils.metadata_routing import _routing_enabled, process_routing
from sklearn.utils.parallel import Parallel, delayed  # the caller's config reaches workers
from sklearn.utils.validation import _check_method_params

from ._base import BaseLadder
from ._batched import batch_groups, fit_batched
from ._input_scaling import shared_fits
from ._scoring import _LabeledScorer
from ._split import LabeledStratifiedKFold
from ._unlabeled import unlabeled_targets

__all__ = ["LadderGridSearchCV", "LadderRandomizedSearchCV"]


# The documentation both searches share, put into their docstrings by _fill_docstring.
_ESTIMATOR_DOC = """\
    Parameters
    ----------
    estimator : LadderClassifier, LadderRegressor or Pipeline
        The ladder to tune, or a :class:`~sklearn.pipeline.Pipeline` whose last step is
        one: the steps before it are fitted on each fold's training rows (unlabeled
        rows included), once for each setting of their parameters searched, and the
        ladders are batched on what those steps make of the rows.
"""
_PARAMETERS_DOC = """\
    scoring : str, callable, list, tuple or dict, default=None
        As for :class:`~sklearn.model_selection.GridSearchCV`, evaluated on the labeled
        rows of each test fold; None uses the estimator's ``score``.
    n_jobs : int, default=None
        Groups and chunks of models trained in parallel, through joblib: with a Dask or
        Ray backend (``joblib.parallel_config``) a cluster of GPU workers runs them.
    refit : bool, str or callable, default=True
        As for :class:`~sklearn.model_selection.GridSearchCV` (the refit is a plain fit).
    cv : int, cross-validation generator or iterable, default=None
        None: 5 folds of the labeled rows, every unlabeled row always trained on and never
        tested (:class:`~sklearn_ladder.model_selection.LabeledStratifiedKFold` for a
        classifier; consecutive folds of the labeled rows, as ``KFold``, for a regressor).
        An int sets the number of folds.
    verbose : int, default=0
        Prints the number of fits and batches.
    pre_dispatch : int or str, default="2*n_jobs"
        As for :class:`~sklearn.model_selection.GridSearchCV`.
    error_score : "raise" or float, default=np.nan
        Score of a fit that failed (diverged, or could not start: a candidate's invalid
        parameter, a step before the ladder that fails); "raise" raises its error.
    return_train_score : bool, default=False
        Also score the training rows (their labeled ones).
    max_models : int, default=None
        Most models per batch; None: as many as half the device's free memory holds.
"""
_ATTRIBUTES_DOC = """\
    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As for :class:`~sklearn.model_selection.GridSearchCV`; ``mean_fit_time`` is each
        batch's time shared evenly among its fits.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_
        As for :class:`~sklearn.model_selection.GridSearchCV`.
    n_batches_ : int
        Number of batches the fits were trained in.
"""
_MAX_MODELS = [Interval(Integral, 1, None, closed="left"), None]


def _fill_docstring(cls):
    """Put the shared estimator, parameter and attribute documentation into ``cls``'s."""
    cls.__doc__ = (cls.__doc__.replace("%(estimator)s", _ESTIMATOR_DOC)
                   .replace("%(parameters)s\n", _PARAMETERS_DOC + "\n")
                   .replace("%(attributes)s\n", _ATTRIBUTES_DOC + "\n"))
    return cls


@_fill_docstring
class LadderGridSearchCV(GridSearchCV):
    """Grid search over a ladder that trains candidates × folds as batches of models.

    A drop-in for :class:`~sklearn.model_selection.GridSearchCV` over a
    :class:`~sklearn_ladder.LadderClassifier` or :class:`~sklearn_ladder.LadderRegressor`:
    the same parameters, attributes (``cv_results_``, ``best_params_``, ``best_score_``,
    ``best_estimator_``, ...) and methods. Every (candidate, fold) fit is the fit that
    ``GridSearchCV`` would make (same parameters, seed and rows; the same computation
    up to float rounding), but the fits that share a structure (layers, mode, combinator,
    rows per update, device) train together as one batched model (see
    :func:`~sklearn_ladder.fit_batched`): on a GPU, a grid of λ (``denoising_costs``),
    σ (``noise_std``), learning rates and seeds costs little more than one fit.
    Parameters that change the structure split the grid into groups; groups too large for
    the device's memory are split into chunks.

    Unlabeled rows are never scored: every scorer is wrapped by
    :func:`~sklearn_ladder.model_selection.labeled_scorer`. ``predict``,
    ``predict_proba``, ``score``, ``transform`` and the other methods are
    ``GridSearchCV``'s: they use ``best_estimator_``.

%(estimator)s    param_grid : dict or list of dict
        As for :class:`~sklearn.model_selection.GridSearchCV`.
%(parameters)s
%(attributes)s
    See Also
    --------
    sklearn_ladder.fit_batched : Fit several ladder estimators as batches of models.
    sklearn.model_selection.GridSearchCV : The search this one stands in for.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ladder import LadderClassifier
    >>> from sklearn_ladder.datasets import mask_labels
    >>> from sklearn_ladder.model_selection import LadderGridSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300] / 16, mask_labels(y[:300], 60, random_state=0)
    >>> search = LadderGridSearchCV(
    ...     LadderClassifier(layers=[30], max_epochs=2, random_state=0),
    ...     {"noise_std": [0.2, 0.3], "denoising_costs": [[100, 1, 0.1], [10, 1, 0.1]]},
    ...     cv=3).fit(X, y)
    >>> len(search.cv_results_["params"]), search.n_batches_
    (4, 1)
    """

    _parameter_constraints = {**GridSearchCV._parameter_constraints,
                              "max_models": _MAX_MODELS}

    def __init__(self, estimator, param_grid, *, scoring=None, n_jobs=None, refit=True,
                 cv=None, verbose=0, pre_dispatch="2*n_jobs", error_score=np.nan,
                 return_train_score=False, max_models=None):
        super().__init__(estimator, param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit,
                         cv=cv, verbose=verbose, pre_dispatch=pre_dispatch,
                         error_score=error_score, return_train_score=return_train_score)
        self.max_models = max_models

    def _scorer(self):
        """The scorer, on the labeled rows only: one, or for several metrics (a list or
        dict) a multimetric scorer of them, as GridSearchCV's ``scorer_``."""
        if self.scoring is None or isinstance(self.scoring, str) or callable(self.scoring):
            return _LabeledScorer(check_scoring(self.estimator, self.scoring), self.scoring)
        named = (self.scoring if isinstance(self.scoring, dict)
                 else {name: name for name in self.scoring})
        scorers = {name: _LabeledScorer(check_scoring(self.estimator, scoring), scoring)
                   for name, scoring in named.items()}
        self._check_refit_for_multimetric(scorers)
        return _MultimetricScorer(scorers=scorers, raise_exc=self.error_score == "raise")

    def _splits(self, X, y, split_params: dict) -> list:
        """The (train, test) splits; by default the labeled rows are split (stratified
        for a classifier) and every unlabeled row is always trained on."""
        cv = self.cv
        if cv is None or isinstance(cv, Integral):
            n_splits = 5 if cv is None else cv
            if is_classifier(self.estimator):
                cv = LabeledStratifiedKFold(n_splits)
            else:
                labeled = np.flatnonzero(~unlabeled_targets(np.asarray(y, dtype=float)))
                folds = [labeled[test] for _, test in KFold(n_splits).split(labeled)]
                return list(LabeledStratifiedKFold._train_test(len(y), folds))
        cv = check_cv(cv, y, classifier=is_classifier(self.estimator))
        return list(cv.split(X, y, **split_params))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **params):
        """Run the search: every candidate on every fold, in batches, then the refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            All rows, labeled and unlabeled.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets with unlabeled rows marked as for the estimator's ``fit``.
        **params : dict
            Routed as by ``GridSearchCV``. Without metadata routing:
            ``sample_weight`` (split with the rows), as for the estimator's ``fit``
            (and the scorer's, where it takes one); for a pipeline,
            ``<step>__<parameter>``, as for its ``fit``; ``groups``, for a ``cv``
            splitter that takes them (such as ``GroupKFold``). With metadata routing
            (``sklearn.set_config(enable_metadata_routing=True)``), to whichever of the
            estimator (its steps), the scorer and the splitter requested them.

        Returns
        -------
        self : object
            The fitted search.
        """
        if not _routing_enabled():
            _check_fit_params(self.estimator, params)
        routed = self._get_routed_params_for_fit(params)
        scorer = self._scorer()
        X, y = indexable(X, y)
        data = _SearchData(X, y, _check_method_params(X, routed.estimator.fit),
                           _check_method_params(X, routed.scorer.score))
        candidates = self._candidates()
        splits = self._splits(X, y, routed.splitter.split)
        self.n_splits_ = len(splits)
        tasks = [(candidate, train, test) for candidate in candidates for train, test in splits]
        out = self._evaluate(data, tasks, scorer)
        _warn_or_raise_about_fit_failures(out, self.error_score)
        if callable(self.scoring):
            _insert_error_scores(out, self.error_score)
        self.multimetric_ = isinstance(scorer, _MultimetricScorer)
        self.cv_results_ = self._format_results(candidates, self.n_splits_, out)
        self.scorer_ = scorer
        self._select_and_refit(X, y, routed.estimator.fit)
        return self

    def _candidates(self) -> list:
        """The candidates' parameters, in the order of ``cv_results_``."""
        return list(ParameterGrid(self.param_grid))

    def _plan(self, data, tasks) -> tuple[dict, dict]:
        """Each task's planned net and number of training rows, by task index, and the
        error of each task whose fit cannot even be planned (invalid parameters or data,
        a failing step before the ladder): as a failed fit, unless error_score="raise".

        Only the planned nets and row counts are kept, not each plan's copy of its rows
        (a batch plans its fits again where it trains); the tasks are planned fold by
        fold, so that only one fold's (preprocessed) rows are held at a time.
        """
        planned, errors = {}, {}
        fold_rows = _FoldRows(self.estimator, data, keep=1)
        with shared_fits():  # a fold's candidates look at its rows' features once
            for i in sorted(range(len(tasks)), key=lambda i: fold_rows.key(*tasks[i][:2])):
                try:
                    ladder, rows, _ = fold_rows(*tasks[i][:2])
                    plan = ladder._plan_fit(*rows)
                except Exception as exc:
                    if self.error_score == "raise":
                        raise
                    errors[i] = exc
                    continue
                planned[i] = plan.net, len(plan.data)
        return dict(sorted(planned.items())), errors

    def _evaluate(self, data, tasks, scorer) -> list:
        """The ``_fit_and_score`` results of every task, trained in batches."""
        planned, errors = self._plan(data, tasks)
        indices = list(planned)
        chunks = [[indices[j] for j in chunk] for chunk in batch_groups(
            *map(list, zip(*planned.values())), self.max_models)] if planned else []
        self.n_batches_ = len(chunks)
        if self.verbose > 0:
            print(f"Fitting {self.n_splits_} folds for each of {len(tasks) // self.n_splits_} "
                  f"candidates, totalling {len(tasks)} fits, in {len(chunks)} batches")
        results = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)(
            delayed(_fit_and_score_batch)(
                self.estimator, data, [tasks[i] for i in chunk], scorer,
                self.return_train_score, self.error_score, self.max_models)
            for chunk in chunks)
        out = [None] * len(tasks)
        for chunk, chunk_results in zip(chunks, results):
            for i, result in zip(chunk, chunk_results):
                out[i] = result
        for i, error in errors.items():
            out[i] = _failed_fit(error, 0.0, len(tasks[i][2]), scorer,
                                 self.return_train_score, self.error_score)
        return out

    def _select_and_refit(self, X, y, params) -> None:
        """best_index_, best_score_, best_params_ and the refit, as GridSearchCV sets them."""
        refit_metric = self.refit if self.multimetric_ else "score"
        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric,
                                                       self.cv_results_)
            if not callable(self.refit):
                self.best_score_ = self.cv_results_[f"mean_test_{refit_metric}"][
                    self.best_index_]
            self.best_params_ = self.cv_results_["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = _with_params(self.estimator, self.best_params_)
            start = time.perf_counter()
            self.best_estimator_.fit(X, y, **params)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_


@_fill_docstring
class LadderRandomizedSearchCV(LadderGridSearchCV):
    """Randomized search over a ladder that trains candidates × folds as batches of models.

    A drop-in for :class:`~sklearn.model_selection.RandomizedSearchCV` over a
    :class:`~sklearn_ladder.LadderClassifier` or :class:`~sklearn_ladder.LadderRegressor`:
    it draws the ``n_iter`` candidates that ``RandomizedSearchCV`` would draw (the same
    ``param_distributions`` and ``random_state`` give the same candidates), then fits
    and scores them as :class:`LadderGridSearchCV` does its grid: the fits that share a
    structure train together as one batched model. Draw σ (``noise_std``) and the
    learning rate from continuous distributions (``scipy.stats.loguniform``) and λ
    (``denoising_costs``) from a list of vectors.

%(estimator)s    param_distributions : dict or list of dict
        As for :class:`~sklearn.model_selection.RandomizedSearchCV`: parameter names to
        distributions (with an ``rvs`` method) or lists to sample uniformly.
    n_iter : int, default=10
        Number of candidates drawn.
    random_state : int, RandomState instance or None, default=None
        Draws the candidates (the ladders' own seeds are their ``random_state``).
%(parameters)s
%(attributes)s
    See Also
    --------
    LadderGridSearchCV : Every candidate of a grid.
    sklearn.model_selection.RandomizedSearchCV : The search this one stands in for.

    Examples
    --------
    Four draws of σ and the learning rate, on 60 labeled rows and 240 unlabeled:

    >>> import numpy as np
    >>> from scipy.stats import loguniform
    >>> from sklearn_ladder import LadderClassifier
    >>> from sklearn_ladder.model_selection import LadderRandomizedSearchCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(300, 10))
    >>> y = np.where(np.arange(300) < 60, X[:, 0] > 0.5, -1)
    >>> search = LadderRandomizedSearchCV(
    ...     LadderClassifier(layers=[20], max_epochs=2, random_state=0),
    ...     {"noise_std": loguniform(0.05, 0.5), "learning_rate": loguniform(1e-3, 1e-2)},
    ...     n_iter=4, cv=3, random_state=0).fit(X, y)
    >>> sorted(search.best_params_)
    ['learning_rate', 'noise_std']
    """

    _parameter_constraints = {**RandomizedSearchCV._parameter_constraints,
                              "max_models": _MAX_MODELS}

    def __init__(self, estimator, param_distributions, *, n_iter=10, scoring=None,
                 n_jobs=None, refit=True, cv=None, verbose=0, pre_dispatch="2*n_jobs",
                 random_state=None, error_score=np.nan, return_train_score=False,
                 max_models=None):
        BaseSearchCV.__init__(self, estimator, scoring=scoring, n_jobs=n_jobs, refit=refit,
                              cv=cv, verbose=verbose, pre_dispatch=pre_dispatch,
                              error_score=error_score, return_train_score=return_train_score)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.max_models = max_models

    def _candidates(self) -> list:
        return list(ParameterSampler(self.param_distributions, self.n_iter,
                                     random_state=self.random_state))


def _with_params(estimator, params: dict):
    """A fresh copy of ``estimator`` with ``params``, cloned as GridSearchCV does (a
    parameter may itself be an estimator)."""
    return clone(estimator).set_params(**clone(params, safe=False))


class _SearchData(NamedTuple):
    """A search's rows and the metadata routed to its fits and its scorer (row-aligned
    arrays, split with the rows)."""

    X: object
    y: object
    fit_params: dict
    score_params: dict

    def rows(self, rows) -> tuple:
        """``X`` and ``y`` of ``rows``."""
        return _safe_indexing(self.X, rows), _safe_indexing(self.y, rows)

    def params(self, params: dict, rows) -> dict:
        """``params`` (``fit_params`` or ``score_params``) of ``rows``."""
        return _check_method_params(self.X, params, indices=rows)


def _ladder_step(estimator) -> str | None:
    """None for a ladder; for a pipeline that ends in one, the name of that step (the
    prefix of its parameters). Anything else is refused."""
    if isinstance(estimator, BaseLadder):
        return None
    if isinstance(estimator, Pipeline) and isinstance(estimator.steps[-1][1], BaseLadder):
        return estimator.steps[-1][0]
    raise ValueError(
        f"LadderGridSearchCV batches the fits of a LadderClassifier or LadderRegressor, "
        f"alone or at the end of a Pipeline; got {type(estimator).__name__}. Use "
        f"sklearn.model_selection.GridSearchCV for other estimators.")


def _check_fit_params(estimator, params: dict) -> None:
    """Without metadata routing: a ladder's fit takes sample_weight alone, and so does
    the ladder of a pipeline (``<step>__sample_weight``); the cv splitter, groups."""
    step = _ladder_step(estimator)
    ladder = "sample_weight" if step is None else f"{step}__sample_weight"
    before = () if step is None else tuple(f"{name}__" for name, _ in estimator.steps[:-1])
    if unexpected := sorted(name for name in params if name not in (ladder, "groups")
                            and not name.startswith(before)):
        others = "" if step is None else ", the other steps' <step>__<parameter>"
        raise TypeError(f"fit got unexpected parameters {unexpected}; it takes {ladder} "
                        f"(the ladder's sample_weight){others} and groups (the cv "
                        f"splitter's) only.")


def _pipeline_params(pipeline, step: str, params: dict) -> tuple[dict, dict]:
    """The fit parameters of a pipeline's steps before its ladder, and the ladder's:
    with metadata routing, as the steps requested them; without, by their prefix."""
    if _routing_enabled():
        ladder = process_routing(pipeline, "fit", **params)[step].fit
        before = pipeline[:-1].get_metadata_routing().consumes("fit_transform", params)
        return {name: params[name] for name in before}, ladder
    prefix = f"{step}__"
    return ({name: value for name, value in params.items() if not name.startswith(prefix)},
            {name.removeprefix(prefix): value for name, value in params.items()
             if name.startswith(prefix)})


class _FoldRows:
    """Each fit of a search as its ladder sees it: ``(ladder, (X, y, sample_weight),
    model)``, the ladder with the candidate's parameters, its fold's training rows and
    the model that is scored. For a pipeline, the rows have been through its steps
    before the ladder, fitted on the fold's training rows (unlabeled ones included)
    with their fit parameters, and the model is those fitted steps followed by the
    ladder.

    The rows of a fold, and its fitted steps, are made once for each setting of the
    steps' parameters and shared by the fits that ask for them again (one copy of the
    rows for ``fit_batched`` to put on the device); ``keep`` bounds how many are held.
    """

    def __init__(self, estimator, data: _SearchData, keep: int | None = None):
        self.estimator, self.step = estimator, _ladder_step(estimator)
        self.data = data
        self.keep, self.made = keep, {}

    def key(self, candidate: dict, train) -> tuple:
        """The fold, and the candidate's parameters of the steps before the ladder."""
        prefix = f"{self.step}__"
        steps = [] if self.step is None else sorted(
            (name, repr(value)) for name, value in candidate.items()
            if not name.startswith(prefix))
        return id(train), tuple(steps)

    def __call__(self, candidate: dict, train) -> tuple:
        model = _with_params(self.estimator, candidate)
        key = self.key(candidate, train)
        if key not in self.made:
            if self.keep is not None and len(self.made) >= self.keep:
                self.made.pop(next(iter(self.made)))
            self.made[key] = self._make(model, train)
        rows, steps = self.made[key]
        if self.step is None:
            return model, rows, model
        ladder = model.steps[-1][1]
        model.steps = [*steps, (self.step, ladder)]  # the fitted steps this fold shares
        return ladder, rows, model

    def _make(self, model, train) -> tuple:
        X, y = self.data.rows(train)
        params = self.data.params(self.data.fit_params, train)
        if self.step is None:
            return (X, y, params.get("sample_weight")), None
        before_params, ladder_params = _pipeline_params(model, self.step, params)
        before = model[:-1]
        X = before.fit_transform(X, y, **before_params)
        return (X, y, ladder_params.get("sample_weight")), before.steps


def _scores(model, data: _SearchData, rows, scorer, error_score):
    """The score(s) of a fitted model on ``rows``, as GridSearchCV's ``_fit_and_score``
    computes them (a failing scorer warns and scores ``error_score``)."""
    X, y = data.rows(rows)
    return _score(model, X, y, scorer, data.params(data.score_params, rows), error_score)


def _fit_and_score_batch(estimator, data: _SearchData, tasks, scorer, return_train_score,
                         error_score, max_models) -> list:
    """Fit one batch of (candidate, train, test) tasks together and score each, as
    scikit-learn's ``_fit_and_score`` reports it; the batch's time is shared evenly."""
    # One copy of each fold's rows, which fit_batched then puts on the device once.
    start = time.perf_counter()
    fold_rows = _FoldRows(estimator, data)
    ladders, rows, models = zip(*(fold_rows(candidate, train) for candidate, train, _ in tasks))
    errors = fit_batched(list(ladders), *map(list, zip(*rows)), max_models=max_models,
                         raise_errors=error_score == "raise")
    fit_time = (time.perf_counter() - start) / len(tasks)
    results = []
    for model, error, (_, train, test) in zip(models, errors, tasks):
        if error is not None:
            results.append(_failed_fit(error, fit_time, len(test), scorer,
                                       return_train_score, error_score))
            continue
        result = {"fit_time": fit_time, "n_test_samples": len(test), "fit_error": None}
        start = time.perf_counter()
        result["test_scores"] = _scores(model, data, test, scorer, error_score)
        if return_train_score:
            result["train_scores"] = _scores(model, data, train, scorer, error_score)
        result["score_time"] = time.perf_counter() - start
        results.append(result)
    return results


def _failed_fit(error, fit_time, n_test, scorer, return_train_score, error_score) -> dict:
    """A failed fit's result, as scikit-learn's ``_fit_and_score`` reports it."""
    failed = ({name: error_score for name in scorer._scorers}
              if isinstance(scorer, _MultimetricScorer) else error_score)
    result = {"fit_time": fit_time, "score_time": 0.0, "n_test_samples": n_test,
              "fit_error": "".join(traceback.format_exception(error)),
              "test_scores": failed}
    if return_train_score:
        result["train_scores"] = failed
    return result
