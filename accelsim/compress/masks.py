"""Boolean weight masks (True = kept): generating them, measuring them, saving them as .npy.

Every structured pattern is defined on a layer's *weight matrix*: one row per output, one
column per weight summed into that output, ordered ``(kernel_h, kernel_w, in_channel)`` with
channels innermost (the NHWC im2col order sparse tensor cores use for N:M). So:

* N:M: at most N non-zeros in every M consecutive columns of a row (a shorter last group
  keeps at most ``min(N, its length)``);
* block ``(bh, bw)``: ``bh`` rows x ``bw`` columns tiles kept or dropped whole;
* channel: whole rows (output channels, or output features of a GEMM) kept or dropped.

Magnitude pruning keeps the largest ``|w|`` (L1 norm for blocks and channels); random pruning
draws from ``numpy.random.default_rng(seed)``. Ties break by position, so results are
deterministic.
"""

from __future__ import annotations

import math
from dataclasses import replace
import stat
import zipfile
from pathlib import Path

import numpy as np

from accelsim.errors import Problem, WorkloadError
from accelsim.spec.workload import ConvBase, ConvTranspose2d, Layer, Network, Sparsity, SparsityPattern, WeightMask

# N:M patterns the importer recognises, in order of preference among equal densities
# (M = 4 first: the 2:4 of NVIDIA's sparse tensor cores, Mishra et al. arXiv 2104.08378).
NM_CANDIDATES = ((1, 4), (2, 4), (1, 8), (2, 8), (4, 8), (1, 2))


def weight_matrix(weights: np.ndarray, layer: Layer) -> np.ndarray:
    """``weights`` (``layer.weight_shape``) as the ``[outputs, reduction]`` matrix defined above."""
    weights = np.asarray(weights)
    if weights.shape != layer.weight_shape:
        raise ValueError(f"layer {layer.name}: weights of shape {weights.shape}, expected {layer.weight_shape}")
    if isinstance(layer, ConvTranspose2d):
        c_in, o_g, kh, kw = weights.shape
        grouped = weights.reshape(layer.groups, c_in // layer.groups, o_g, kh, kw)
        return grouped.transpose(0, 2, 3, 4, 1).reshape(layer.groups * o_g, -1)
    if isinstance(layer, ConvBase):
        return weights.transpose(0, 2, 3, 1).reshape(weights.shape[0], -1)
    if weights.ndim == 2:  # GEMM weights are [k, n]
        return weights.T
    raise ValueError(f"layer {layer.name} ({layer.op.value}) has no weights")


def weight_tensor(matrix: np.ndarray, layer: Layer) -> np.ndarray:
    """The inverse of :func:`weight_matrix`."""
    if isinstance(layer, ConvTranspose2d):
        c_in, o_g, kh, kw = layer.weight_shape
        grouped = matrix.reshape(layer.groups, o_g, kh, kw, c_in // layer.groups)
        return grouped.transpose(0, 4, 1, 2, 3).reshape(layer.weight_shape)
    if isinstance(layer, ConvBase):
        o, c_g, kh, kw = layer.weight_shape
        return matrix.reshape(o, kh, kw, c_g).transpose(0, 3, 1, 2)
    return matrix.T


def _groups(matrix: np.ndarray, m: int) -> np.ndarray:
    """``matrix`` [rows, cols] zero-padded to whole groups and shaped ``[rows, groups, m]``."""
    rows, cols = matrix.shape
    padded = np.zeros((rows, math.ceil(cols / m) * m), dtype=matrix.dtype)
    padded[:, :cols] = matrix
    return padded.reshape(rows, -1, m)


def conforms_nm(matrix_mask: np.ndarray, n: int, m: int) -> bool:
    """Whether a ``[outputs, reduction]`` mask has at most ``n`` non-zeros in every group of ``m``."""
    return bool((_groups(matrix_mask != 0, m).sum(axis=2) <= n).all())


def measure_sparsity(weights: np.ndarray, layer: Layer) -> Sparsity:
    """The sparsity annotation real weights earn: dense, the sparsest N:M they conform to, or unstructured."""
    nonzero = np.asarray(weights) != 0
    density = float(np.count_nonzero(nonzero)) / nonzero.size
    if density == 1.0:
        return Sparsity()
    matrix = weight_matrix(nonzero, layer)
    fits = [(n, m) for n, m in NM_CANDIDATES if conforms_nm(matrix, n, m)]
    if fits:
        n, m = min(fits, key=lambda nm: nm[0] / nm[1])
        return Sparsity(pattern=f"{n}:{m}", density=density)
    return Sparsity(pattern="unstructured", density=density)


def synthetic_weights(layer: Layer, seed: int) -> np.ndarray:
    """Normally distributed stand-in weights of ``layer.weight_shape`` (for magnitude pruning)."""
    return np.random.default_rng(seed).standard_normal(layer.weight_shape).astype(np.float32)


def _scores(values: np.ndarray, method: str, rng: np.random.Generator) -> np.ndarray:
    if method == "magnitude":
        return np.abs(values).astype(np.float64)
    if method == "random":
        return rng.random(values.shape)
    raise ValueError(f"expected method magnitude or random, got {method!r}")


def _keep_top(scores: np.ndarray, count: int) -> np.ndarray:
    """Boolean mask of ``scores``' shape keeping the ``count`` highest (earliest index on ties)."""
    flat = scores.ravel()
    keep = np.zeros(flat.size, dtype=bool)
    keep[np.argsort(-flat, kind="stable")[:count]] = True
    return keep.reshape(scores.shape)


def make_mask(layer: Layer, sparsity: Sparsity, weights: np.ndarray | None = None, *,
              method: str = "magnitude", seed: int = 0) -> np.ndarray:
    """A boolean mask of ``layer.weight_shape`` with ``sparsity``'s pattern and density.

    ``weights`` default to :func:`synthetic_weights` ``(layer, seed)``. The kept count is
    ``round(density x units)`` of the pattern's units (values, blocks, rows); N:M keeps the
    top N of every group, or fewer to reach a lower ``density`` given with it.
    """
    if not layer.weight_shape:
        raise ValueError(f"layer {layer.name} ({layer.op.value}) has no weights to mask")
    rng = np.random.default_rng(seed)
    values = synthetic_weights(layer, seed) if weights is None else np.asarray(weights)
    scores = weight_matrix(_scores(values, method, rng), layer)
    rows, cols = scores.shape
    kind = sparsity.kind
    density = sparsity.effective_density
    if kind is SparsityPattern.DENSE:
        keep = np.ones_like(scores, dtype=bool)
    elif kind is SparsityPattern.UNSTRUCTURED:
        keep = _keep_top(scores, round(density * scores.size))
    elif kind is SparsityPattern.NM:
        n, m = sparsity.n_m
        grouped = _groups(scores + 1.0, m)  # padding scores 0, below every real score
        order = np.argsort(-grouped, axis=2, kind="stable")
        ranks = np.argsort(order, axis=2, kind="stable")
        keep = (ranks < n).reshape(rows, -1)[:, :cols]
        if sparsity.density is not None:  # drop the weakest kept values down to the density
            keep &= _keep_top(np.where(keep, scores, -1.0), round(sparsity.density * scores.size))
    elif kind is SparsityPattern.BLOCK:
        bh, bw = sparsity.block
        padded = np.zeros((math.ceil(rows / bh) * bh, math.ceil(cols / bw) * bw))
        padded[:rows, :cols] = scores
        norms = padded.reshape(padded.shape[0] // bh, bh, -1, bw).sum(axis=(1, 3))
        kept_blocks = _keep_top(norms, round(density * norms.size))
        keep = np.kron(kept_blocks, np.ones((bh, bw), dtype=bool)).astype(bool)[:rows, :cols]
    else:  # channel
        keep = np.repeat(_keep_top(scores.sum(axis=1), max(1, round(density * rows)))[:, None], cols, axis=1)
    return weight_tensor(keep, layer)


def save_mask(mask: np.ndarray, path: str | Path) -> Path:
    """Write a boolean mask as ``.npy``; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(mask, dtype=bool))
    return path


MASK_SUFFIXES = (".npy", ".npz")
MAX_MASK_BYTES = 2**31  # largest mask read into memory


def load_mask(layer: Layer, base_dir: str | Path = ".") -> np.ndarray:
    """The boolean mask ``layer``'s weight sparsity references (relative paths from ``base_dir``).

    Only a regular ``.npy`` file, or an ``.npz`` holding one array, is read; its header's shape
    and type are checked against the layer before any data is loaded, and messages say what was
    wrong without quoting what a file holds. Raises :class:`WorkloadError` naming the file.
    """
    mask = layer.compression.sparsity.mask
    if mask is None:
        raise WorkloadError(layer.name, [Problem("compression.sparsity.mask", "no mask given")])
    path = Path(base_dir) / mask.path

    def fail(reason: str) -> WorkloadError:
        return WorkloadError(str(path), [Problem("", f"cannot read it as the mask of layer {layer.name}: {reason}")])

    if path.suffix.lower() not in MASK_SUFFIXES:
        raise fail("expected a .npy file (or an .npz holding one array) written by numpy")
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise fail("not a regular file")
        if path.suffix.lower() == ".npz":
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.endswith(".npy")]
                if len(members) != 1 or len(archive.namelist()) != 1:
                    raise fail(f"expected an .npz holding one array, it holds {len(archive.namelist())} entries")
                with archive.open(members[0]) as handle:
                    return _read_mask(handle, layer, fail)
        with open(path, "rb") as handle:
            return _read_mask(handle, layer, fail)
    except WorkloadError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a numpy array file"
        raise fail(reason) from None


def _read_mask(handle, layer: Layer, fail) -> np.ndarray:
    """The array in an open ``.npy`` stream after its header matched ``layer``'s weights."""
    try:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle, max_header_size=10_000)
    except (ValueError, EOFError, SyntaxError, TypeError):
        raise fail("not a numpy array file") from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise fail(f"expected boolean or numeric values, the file holds {dtype.kind!r}-kind data")
    if tuple(shape) != layer.weight_shape:
        raise fail(f"mask of shape {tuple(shape)}, layer {layer.name} has weights of shape {layer.weight_shape}")
    count = math.prod(shape)
    if count * dtype.itemsize > MAX_MASK_BYTES:
        raise fail(f"{count:,} values of {dtype.itemsize} bytes is more than the {MAX_MASK_BYTES // 2**30} GiB "
                   "a mask may take; use a density instead")
    data = handle.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise fail(f"the file is shorter than its header says ({len(data)} of {count * dtype.itemsize} bytes)")
    mask = np.frombuffer(data, dtype=dtype)
    mask = mask.reshape(shape, order="F" if fortran else "C")
    return mask.astype(bool)


def read_masks(net: Network, base_dir: str | Path) -> Network:
    """``net`` with every mask it references read (relative paths from ``base_dir``, the
    workload file's folder): what the simulator needs, since it reads no files.

    Raises :class:`WorkloadError` naming the file if one is missing, unreadable or of the wrong shape.
    """
    layers = []
    for layer in net.layers:
        sparsity = layer.compression.sparsity
        if sparsity.mask is not None and not sparsity.mask.is_read:
            mask = WeightMask(sparsity.mask.path, load_mask(layer, base_dir))
            layer = replace(layer, compression=replace(layer.compression, sparsity=replace(sparsity, mask=mask)))
        layers.append(layer)
    return replace(net, layers=tuple(layers))
