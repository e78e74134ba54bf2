"""The parameter and attribute documentation the ladder estimators share.

An estimator's docstring holds ``%(parameters)s`` and ``%(attributes)s`` lines, which
:func:`fill_docstring` replaces; the estimator's own parameters and attributes follow
them.
"""

import textwrap

from ._base import AUTO_FEW_FEATURES, AUTO_WIDE_INPUT, MNIST_INPUT_SPREAD
from ._input_scaling import FAR_TAIL, MIN_INPUT_RMS, TIED_FLOOR, UNIT_FEATURE_RMS

__all__ = ["ATTRIBUTES_DOC", "PARAMETERS_DOC", "fill_docstring"]

# The parameters' documentation, shared by the estimators' docstrings.
PARAMETERS_DOC = """    Parameters
    ----------
    layers : "auto", sequence of int, str or sequence of layer specifications, \
            default="auto"
        The encoder. A sequence of int gives the widths of fully connected hidden layers;
        the input and output widths come from the data, and ``len(layers) = L - 1``
        hidden layers make layers 0..L (input to softmax). "auto": the paper's
        1000-500-250-250-250 (784-1000-500-250-250-250-10 on MNIST) on %(wide)s input
        features or more, two hidden layers of 500 and 250 units on fewer (``layers_``
        holds the network used).
%(auto_layers_why)s
        For images, a preset name (``"conv-small"``, ``"conv-large"``, ``"conv-fc"``:
        the paper's Tables 2-3) or a list of :mod:`sklearn_ladder.layers` specifications
        (``Conv``, ``MaxPool``, ``GlobalMeanPool``, ``Dense``) describes every layer above
        the input, the output layer included: its width must equal the number of classes
        (outputs). Every layer, pooling included, counts in ``denoising_costs`` and
        ``noise_std``.
    input_shape : tuple of int (channels, height, width), default=None
        Shape of one image, for convolutional layers: each row of ``X`` holds
        ``channels * height * width`` values, channel after channel, each row-major (as
        ``images.reshape(n, -1)`` gives for an ``(n, channels, height, width)`` array).
        ``None`` for flat feature vectors.
    input_scaling : {"auto", "minmax", "quantile"} or None, default="auto"
        How ``fit`` maps ``X`` to the network's inputs, which ``predict``, ``transform``
        and ``reconstruct`` then apply too (``input_scaler_``, fitted on every training
        row, labeled and unlabeled). The noise σ and the weights λ assume inputs of about
        unit scale whose values spread over it (the paper's pixels in [0, 1]).
        ``"minmax"``: every feature mapped to [0, 1] by its minimum and maximum (a
        feature of small values too: only one whose values differ by rounding alone is
        taken as constant and mapped to 0, whereas scikit-learn's ``MinMaxScaler``
        zeroes any float32 feature with a range below 1.2e-6).
        ``"quantile"``: every feature mapped to [0, 1] by its empirical distribution
        function (the fraction of training values below a value; monotone).
        ``"auto"``: in a table (``input_shape=None``), a feature whose tail reaches
        more than %(far_tail)s times the width of its middle 90 % of values beyond that
        middle (skewed amounts, counts, a mistyped value; judged above a floor shared by
        %(tied_floor)s % of the rows or more, such as zeros) by its distribution function, which
        spreads its bulk over [0, 1] where a min-max map would squeeze it into a sliver;
        the other features by their minimum and maximum unless every value of ``X``
        lies in [0, 1] already and ``X`` is of unit scale (then as given: the paper's
        pixels stay the paper's), so that a standardised or whitened table, or sparse
        rows of small values such as TF-IDF's, reaches the network spread over [0, 1],
        as the tables the defaults were chosen on did. Images (``input_shape``): every
        pixel by its minimum and maximum where ``X`` is far from unit scale, else as
        given (pixels in [0, 1], standardised or whitened images). Far from unit scale:
        some feature has a root mean square above %(unit_feature_rms)s, or ``X`` as a
        whole one below %(min_input_rms)s. ``None``: ``X`` as given, with an
        ``InputScaleWarning`` where it is far from unit scale or far tailed.
%(input_scaling_why)s
    mode : {"full", "gamma", "bottom", "supervised"}, default="full"
        Which layers get a denoising cost: every layer (the full ladder), the top layer
        only (the paper's Γ-model), the input only, or none (the encoder alone, the
        paper's supervised baseline, which builds no decoder).
    denoising_costs : array-like of shape (L + 1,), default=None
        λ_0..λ_L, the weight of each layer's denoising cost C_l. ``None`` takes the
        mode's default from the paper's 100-label MNIST settings: full
        ``(1000, 10, 0.1, ...)``, bottom ``(5000, 0, ...)``, gamma ``(0, ..., 0, 0.5)``,
        supervised all 0. Nonzero values must lie on the layers the mode decodes.
%(few_features_costs)s
    noise_std : "auto", float or array-like of shape (L + 1,), default="auto"
        σ, the standard deviation of the Gaussian noise added to the input (σ_0) and to
        every normalised pre-activation (σ_1..σ_L) of the corrupted encoder.
%(auto_noise)s
%(noise_std_why)s
%(small_inputs_noise)s
    combinator : {"gauss", "g1", "g2", "g3", "g4", "amlp"} or callable, default="gauss"
        The denoising function g of the decoder: ``"gauss"`` is the paper's eq. 2;
        ``"g1"``..``"g4"`` its Appendix B comparisons (miniature MLP with and without the
        z̃u term, linear, additive); ``"amlp"`` the per-unit MLP on (z̃, u, z̃u) of
        Pezeshki et al. (2016). A callable ``factory(n_units) -> torch.nn.Module`` (e.g.
        an importable ``nn.Module`` subclass) supplies your own, mapping ``(z_tilde, u)``
        to ``z_hat`` element-wise; see :func:`sklearn_ladder.combinators.make_combinator`.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Non-linearity φ of the hidden layers (the output is always a softmax);
        ``"leaky_relu"`` has slope 0.1, as in the paper's CIFAR-10 network.
    top_scale : bool, default=True
        Whether the top layer has the learned scale γ of its logits (the paper drops it
        for CIFAR-10's Conv-Large).
    labeled_statistics : {"auto", "labeled", "unlabeled"}, default="auto"
        The batch statistics that normalise the labeled rows in training. ``"labeled"``
        (the paper): their own, and at test time those of the labeled set. With a few
        labeled rows, cycled to fill each batch, these statistics are noisy and differ
        from those of the unlabeled rows that the decoder learns from.
        ``"unlabeled"``: those of the unlabeled rows of the same batch, and at test time
        those of every training row; it needs a decoder (not ``mode="supervised"``).
        ``"auto"``: ``"unlabeled"`` on a small table, fewer than 50 features and fewer
        than 50 labeled rows (some rows unlabeled, and a decoder), else ``"labeled"``. In
        the data-set benchmark borrowing lowered the ladder's error with 6 to 40 labeled
        rows of 2 to 40 features (two moons, wine, breast cancer, 40-feature clusters)
        and raised it on digits (64 features, 20 to 50 labeled rows) and on circles (2
        features, 20 labeled rows); above the line it lowered it on 60-feature clusters
        with 30 labeled rows: with a few dozen labeled rows, try both.
    batch_size : int, default=100
        Rows of each kind per update: every update sees ``batch_size`` labeled and
        ``batch_size`` unlabeled rows (capped at the number of rows). At least 2, since
        batch normalisation needs two rows.
    max_epochs : int or "auto", default="auto"
        Epochs of training; an epoch is one pass over all rows (the unlabeled pool), that
        is ``ceil(n_samples / batch_size)`` updates.
%(auto_length)s
    max_iter : int, default=None
        The training length in updates instead (each of ``batch_size`` labeled and
        ``batch_size`` unlabeled rows), rounded up to whole epochs; the learning rate
        decays over them. Set it or ``max_epochs``, not both.
    learning_rate : float, default=0.002
        Adam's initial learning rate.
    lr_decay_start : float, default=0.67
        Fraction of the epochs after which the learning rate decays linearly to 0.
    device : str or torch.device, default="cpu"
        Torch device to train and predict on: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a
        :class:`torch.device`, or ``"auto"`` (CUDA when available, else the CPU).
    fp32_precision : {"ieee", "bf16", "tf32"}, default="ieee"
        The internal precision of the float32 matrix products and convolutions of
        training (each update, forward and backward, and the test-time statistics), set
        for them and restored after; parameters, the element-wise work and predictions
        stay in float32 / float64. ``"ieee"``: full float32, on a GPU too (where torch
        lets cuDNN's convolutions use TF32 by default). Off by default since they change
        the arithmetic, two options trade precision for speed:

        - ``"bf16"``, CPU only: oneDNN may compute the products with bfloat16
          arithmetic and gets those large enough (about 16³ multiply-adds and more)
          from MKL. Whether the arithmetic changes depends on the CPU: oneDNN
          down-converts only where it has bfloat16 kernels for the product, and
          computes in float32 with its own kernels elsewhere. Measured (see the
          benchmarks page): on an Intel Xeon with AVX512-BF16 but no AMX, the products
          stay float32 (to 1e-4 of the default) and an update of the paper's MLP is no
          faster; on the AMD EPYC of earlier runs it was about 1.4x faster, with the
          same MNIST test error after a shortened schedule. Convolutional ladders did
          not gain on either.
        - ``"tf32"``, CUDA only: cuBLAS and cuDNN may use the TF32 tensor cores
          (inputs rounded to a 10-bit mantissa, float32 accumulation), as
          ``torch.backends.cuda.matmul.fp32_precision = "tf32"`` would.

        The setting is process-wide while it lasts, so fits in threads should use the
        same value.
    gpu_update : {"auto", "eager", "graph", "compiled"}, default="auto"
        How each training update runs on a CUDA device; ignored on the CPU. ``"graph"``
        captures the update (noise, forward, backward and Adam's step) as a CUDA graph
        after three eager updates and replays it: one launch per update instead of about
        700, with the same numbers as ``"eager"`` (measured bit for bit on an H100).
        ``"compiled"`` also compiles the forward pass and the cost with
        ``torch.compile`` (fused kernels; the same numbers to rounding), which costs
        about 20 s once per structure and process (with
        :func:`~sklearn_ladder.fit_batched`, once per structure and number of models in
        a batch). ``"auto"``: ``"compiled"`` for fits of 20,000 updates or more (the
        paper's schedule: 90,000), else ``"graph"``;
        ``"eager"`` on torch < 2.5, where ``"graph"`` and ``"compiled"`` raise a
        ``ValueError`` at ``fit`` (as ``"compiled"`` does without Triton).
        Measured on an H100, paper MLP through ``LadderClassifier``: 18.3 ms per update
        eager, 2.1 ms graphed, 0.74 ms compiled (see the benchmarks page).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the noise and the batch sampling, each drawn
        from a generator of the fit's own: torch's global random state is neither used
        nor changed, so fits in threads with the same ``random_state`` give the same
        model. On CPU an int gives identical predictions across fits and processes (same
        torch build and thread count). On CUDA, the noise comes from a CUDA generator, so
        a GPU fit differs from a CPU fit with the same seed (the initial weights are the
        same); some kernels (atomic adds in reductions and index backward) are not
        deterministic, so GPU results vary slightly between runs unless
        ``torch.use_deterministic_algorithms(True)`` is set by the caller. A combinator
        given as your own factory initialises from torch's global generator (seeded
        from this one), which is not thread-safe.
    verbose : int, default=0
        ``1`` prints one line of costs per epoch.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted network for ``max_epochs`` more
        epochs (with a fresh learning-rate schedule and new noise and batches) instead of
        starting anew. The network's structure and the classes must stay the same. A
        continued fit that fails (e.g. diverges) leaves the fitted model as it was.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows (stratified by class for the
        classifier; they stay in the unlabeled pool), stop when their score (accuracy, or
        R² for the regressor) has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        and keep the best epoch's weights. The score is in ``history_`` as
        ``valid_score``.
    validation_fraction : float, default=0.1
        Fraction of the labeled rows held out when ``early_stopping`` is True; it must
        leave at least one row of every class on each side.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping.
    tol : float, default=1e-4
        Smallest improvement of the validation score that counts.
    feature_layer : int, default=None
        Layer whose clean activations ``transform`` returns: 1..L-1 are the hidden layers,
        L the logits; ``None`` is the last hidden layer (L - 1). Checked in ``fit``.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra :mod:`skorch.callbacks` run during training, after the ladder's own: those
        that act on the net, its optimiser or its history (``LRScheduler``,
        ``GradientNormClipping``, ``ProgressBar``, ``Checkpoint`` or ``EarlyStopping``
        monitoring a key of ``history_`` such as ``"supervised_cost"``, ...). skorch's
        ``EpochScoring`` and ``BatchScoring`` are refused: a ladder's batches are not
        theirs to score.
"""

# The fitted attributes every ladder estimator has, for the estimators' docstrings.
ATTRIBUTES_DOC = """    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    input_scaler_ : transformer or None
        The map of the inputs (``input_scaling`` resolved), fitted on the training rows,
        with ``transform`` and ``inverse_transform``: its ``minmax_`` (a
        ``MinMaxScaler`` that maps features of small values too, or None where the
        features are taken as given) maps every
        feature but those in ``quantile_features_``, which its ``quantile_`` (a
        ``QuantileTransformer``, or None) maps. None when the network takes ``X`` as
        given.
    layers_ : list of layer specifications
        Every layer above the input as built (``layers`` with "auto" or a preset name
        resolved), the output layer included, e.g. ``[Dense(500), Dense(250),
        Dense(10)]``.
    denoising_costs_ : ndarray of shape (L + 1,)
        The λ values used.
    noise_std_ : ndarray of shape (L + 1,)
        The σ values used.
    labeled_statistics_ : {"labeled", "unlabeled"}
        The batch statistics that normalised the labeled rows (``labeled_statistics``
        with "auto" resolved).
    net_ : LadderNet
        The trained skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``supervised_cost``, ``denoising_cost``,
        ``denoising_cost_<l>`` (λ_l C_l), ``lr`` and ``dur``.
    n_iter_ : int
        Number of epochs trained.
    n_updates_ : int
        Number of updates trained (over all epochs, warm starts included).
"""


# max_epochs="auto"; the floor of updates and its reason are the estimator's.
AUTO_LENGTH = (
    '"auto" trains the paper\'s 150 epochs, or longer where that would be fewer than '
    "%(min_updates)s updates, so that a small data set trains long enough and a large one "
    "(MNIST's 60,000 rows: 90,000 updates) as in the paper. %(why)s")

# denoising_costs=None, the classifier's rule on few features, and why.
FEW_FEATURES_COSTS = (
    "In mode \"full\" on fewer than %(d)s input features, None means λ_0 alone (the "
    "hidden layers' λ are 0). On two features with 20 labeled rows the hidden layers' "
    "costs made the ladder worse than its encoder alone (two moons and circles, 10 "
    "labels per class, 10 seeds: test error 9.2 and 18.4 % with them, 7.9 and 15.4 % "
    "without, the encoder alone 7.1 and 17.0 %); with fewer labels they helped (two "
    "moons, 3 per class: 11.3 % with them, 15.4 % without, the encoder alone 17.9 %): "
    "the rule's price (benchmarks page).")


# noise_std="auto": σ_0 in proportion to the spread of inputs in [0, 1], and why (the
# numbers: the benchmarks page, "The input's noise and the features' spread").
SPREAD_NOISE = (
    "The paper's σ_0 = 0.3 is 1.15 times the spread of MNIST's pixels. Features mapped "
    "to [0, 1] spread as their distribution makes them: Gaussian ones about 0.15 (their "
    "range is six or seven standard deviations), where 0.3 is twice their spread and "
    "blurs classes the unlabeled rows would tell apart; one-hot columns 0.3 to 0.5, "
    "which more noise regularises. On the 24 small-table cells of the benchmarks page "
    "(seeds 0-4) the rule lowered the ladder's test error in 15 and raised it in 8, by "
    "1.4 points on average: Gaussian clusters of 6 classes in 60 features from 32.8 to "
    "17.9 % with 5 labels per class, of 3 classes in 40 from 53.5 to 48.6 %; most "
    "raised: wine with 10 labels per class (4.1 to 5.6 %) and the Gaussian quantiles "
    "with 20 (46.1 to 47.6 %). On Gaussian clusters of 20 classes with 3 labels per "
    "class it went from 45.5 to 25.4 % (LabelSpreading 42.8 %), on 5 numeric columns "
    "beside 4 one-hot encoded categories from 20.9 to 12.6 % (its encoder alone 15.8 %): "
    "the cases the rule was drawn from. The regressor keeps an absolute σ_0.")


# noise_std="auto": σ_0 at most the inputs' root mean square, and why (the numbers: the
# benchmarks page, "Sparse rows of small values").
SMALL_INPUTS_NOISE = (
    "The paper's σ_0 = 0.3 met MNIST's pixels, whose root mean square is 0.34, and the "
    "tables the defaults were chosen on, as the network gets them, have 0.34 to 0.6: the cap "
    "leaves them all as they were. Sparse rows of small values have less: TF-IDF rows "
    "of 1,000 words, 28 of them nonzero, 0.08 once mapped to [0, 1] (input_scaling), "
    "and σ_0 = 0.3 on every input drowned them: on documents of 4 topics with 10 labels "
    "per topic (seeds 0-4) the ladder's test error was 53.4 %, and 3.9 % mapped to "
    "[0, 1] with σ_0 at their root mean square (LabelSpreading 13.0 %, a self-trained "
    "SVC 14.4 %; benchmarks page).")


# layers="auto", and why (the numbers: the benchmarks page, "The network's width").
AUTO_LAYERS_WHY = (
    "On the benchmark's tables of 2 to 64 features the narrower network beat the "
    "paper's in 20 of 24 (data set, label count) cells, by up to 11 points (6-class "
    "clusters in 60 features, 5 labels per class: 32.8 against 43.8 % test error; "
    "behind by 0.35 to 1.0 points in the other 4), and fitted about three times "
    "faster; on MNIST rows as a table it lost (784 pixels, 5 labels per class: 13.0 "
    "against 6.2 %; pixels pooled 2 x 2 to 196 features: 9.6 against 6.5 %). On the "
    "regression problems (4 to 50 features) its test R² was higher in 7 of 10 cells "
    "and lower on a linear target, where the unlabeled rows carry nothing.")


# input_scaling="auto", and why (the numbers: the benchmarks page, "Inputs as they come",
# "Far tails" and "Standardised tables").
INPUT_SCALING_WHY = (
    "On four of scikit-learn's data sets as they come (wine and iris with 3 labels per "
    "class, digits as integers 0-16 and breast cancer with 5; seeds 0-2) the ladder "
    "given X as is had 60, 43, 49 and 56 % test error, and 4.3, 5.2, 4.5 and 6.6 % "
    "with its inputs scaled (the fits of a MinMaxScaler in a Pipeline, but for one test "
    "row in 2 of 12 runs); LabelSpreading on the same raw inputs 43, 7.4, 6.3 and 25 %. "
    "X's root mean square alone misses raw iris (4.0 overall, 5.9 its largest "
    "feature's). On three held-out tables with far tails (log-normal amounts, counts, "
    "one entry in a hundred mistyped a thousandfold; 5 labels per class, seeds 0-2) "
    "min-max scaling left the ladder at 56.5, 65.3 and 65.1 % test error, and mapping "
    "the far-tailed features by their distribution at 18.9, 41.2 and 28.8 % "
    "(LabelSpreading 41.0, 62.3 and 30.8 %); on breast cancer, whose six far tails are "
    "moderate, the mapping cost 1.4 points (8.0 against 6.6 %). Standardised (a "
    "StandardScaler fitted on the training rows; 10 data sets with 3 to 10 labels per "
    "class, seeds 0-4) and given as is, the ladder had 24.4, 28.4, 25.7 and 10.9 % test "
    "error on wine, iris, two moons and digits, against 3.0, 6.2, 12.7 and 4.5 % mapped "
    "to [0, 1], and was behind on 7 of 10; ahead on the three whose class is read from "
    "a radius (Hastie's problem, Gaussian quantiles, circles: 31.3, 46.4 and 5.3 % "
    "against 42.6, 56.5 and 17.7 %), where input_scaling=None after a StandardScaler "
    "is the better choice.")


def _auto_noise(cls) -> str:
    """What noise_std="auto" resolves to for ``cls`` (its σ, whether σ_0 follows the
    spread of the inputs), with the reasons for the spread rule where it does."""
    sigma = repr(cls._auto_noise_std)
    spread = (f"on inputs in [0, 1] σ_0 = {sigma}·s / {MNIST_INPUT_SPREAD:g}, where s, the "
              f"inputs' spread, is the root mean square of their features' standard "
              f"deviations ({MNIST_INPUT_SPREAD:g} on MNIST's pixels, so σ_0 = {sigma} "
              f"there); " if cls._input_noise_follows_spread else "")
    return (f'"auto": σ = {sigma} on every layer, but {spread}σ_0 times √(n_features / '
            f"{AUTO_FEW_FEATURES}) on fewer than {AUTO_FEW_FEATURES} input features; and "
            f"σ_0 never above the root mean square of the network's inputs (``noise_std_`` "
            f"holds the values used)." + (" " + SPREAD_NOISE
                                          if cls._input_noise_follows_spread else ""))


def fill_docstring(cls):
    """Put the shared parameter and attribute documentation into ``cls.__doc__``, with
    what differs between the estimators read from the class: the noise
    (``cls._auto_noise_std``, ``cls._noise_std_why``, ``cls._input_noise_follows_spread``),
    the default λ on few features
    (``cls._input_cost_only_on_few_features``) and the training length
    (``cls._auto_min_updates``, ``cls._auto_length_why``)."""

    def paragraph(text):
        return textwrap.fill(text, width=88, initial_indent=" " * 8,
                             subsequent_indent=" " * 8) + "\n"

    costs = (paragraph(FEW_FEATURES_COSTS) if cls._input_cost_only_on_few_features
             else "")
    length = (AUTO_LENGTH.replace("%(min_updates)s", f"{cls._auto_min_updates:,}")
              .replace("%(why)s", cls._auto_length_why))
    parameters = (PARAMETERS_DOC.replace("%(few_features_costs)s\n", costs)
                  .replace("%(unit_feature_rms)s", f"{UNIT_FEATURE_RMS:g}")
                  .replace("%(min_input_rms)s", f"{MIN_INPUT_RMS:g}")
                  .replace("%(far_tail)s", f"{FAR_TAIL:g}")
                  .replace("%(tied_floor)s", f"{100 * TIED_FLOOR:g}")
                  .replace("%(input_scaling_why)s\n", paragraph(INPUT_SCALING_WHY))
                  .replace("%(wide)s", str(AUTO_WIDE_INPUT))
                  .replace("%(auto_layers_why)s\n", paragraph(AUTO_LAYERS_WHY))
                  .replace("%(auto_length)s\n", paragraph(length))
                  .replace("%(d)s", str(AUTO_FEW_FEATURES))
                  .replace("%(noise_std_why)s\n", paragraph(cls._noise_std_why))
                  .replace("%(auto_noise)s\n", paragraph(_auto_noise(cls)))
                  .replace("%(small_inputs_noise)s\n", paragraph(SMALL_INPUTS_NOISE)))
    cls.__doc__ = (cls.__doc__.replace("    %(parameters)s\n", parameters)
                   .replace("    %(attributes)s\n", ATTRIBUTES_DOC))
    return cls
