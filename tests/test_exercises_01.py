"""The self-checks of notebook 01 (hardware): right answers pass, others do not."""

from __future__ import annotations

import torch

from leafdl.exercises import check_batch_bytes, check_matmul_flops


def test_matmul_flops(capsys):
    assert check_matmul_flops(2 * 512**3, n=512) is True
    assert "Correct" in capsys.readouterr().out
    assert check_matmul_flops(512**3, n=512) is False  # multiplications only
    assert "Not yet" in capsys.readouterr().out
    assert check_matmul_flops(2 * 8**3, n=8) is True
    assert check_matmul_flops(None) is False
    assert "Not answered yet" in capsys.readouterr().out


def test_batch_bytes_agrees_with_torch():
    batch = torch.zeros(32, 3, 224, 224)
    assert check_batch_bytes(batch.element_size() * batch.nelement()) is True
    assert check_batch_bytes(32 * 3 * 224 * 224) is False  # values, not bytes
    assert check_batch_bytes(8 * 3 * 128 * 128 * 4, batch_size=8, size=128) is True
    assert check_batch_bytes(None) is False
