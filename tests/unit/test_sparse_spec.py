"""SparsitySpec fields load and validate (the kernels' integer codes are checked in tests/test_layering.py)."""

import pytest

from accelsim.errors import ConfigError
from accelsim.spec.arch import SparseFormat, SparsityMode, SyncGroup
from accelsim.frontend.load import load_arch


def test_sparse_2of4_config_loads(root):
    a = load_arch(root / "arch_configs" / "sparse_2of4.yaml")
    assert a.sparsity.mode is SparsityMode.SKIP and a.sparsity.structured == ("2:4",)
    assert SparseFormat.NM_INDEX in a.sparsity.formats and a.sparsity.sync_group is SyncGroup.AUTO


def test_bad_sync_group_names_the_key(tmp_path, root):
    text = (root / "arch_configs" / "sparse_2of4.yaml").read_text().replace("mode: skip", "mode: skip\n  sync_group: colum")
    path = tmp_path / "a.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="sparsity.sync_group"):
        load_arch(path)
