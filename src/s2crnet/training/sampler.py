"""Which samples each optimizer step sees: a pure function of (seed, step), so a resumed
or distributed run sees exactly the data an uninterrupted single run would."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import torch

__all__ = ["StepBatchSampler"]


class StepBatchSampler:
    """Batches of ``(index, epoch)`` keys for steps ``start_step`` .. ``total_steps - 1``.

    The data is an endless run of epochs, each a fresh permutation seeded by
    ``(seed, epoch)``; step ``s`` takes positions ``s B W .. (s + 1) B W`` of it (batch
    ``B`` per process, ``W`` processes) and process ``r`` the ``r``-th slice of ``B``.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        seed: int,
        start_step: int,
        total_steps: int,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if size < 1:
            raise ValueError("the dataset is empty")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start_step, self.total_steps = start_step, total_steps
        self.rank, self.world = rank, world
        self._permutation = lru_cache(maxsize=2)(self._make_permutation)

    def _make_permutation(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.size, generator=generator).tolist()

    def key(self, position: int) -> tuple[int, int]:
        epoch, offset = divmod(position, self.size)
        return self._permutation(epoch)[offset], epoch

    def __len__(self) -> int:
        return max(0, self.total_steps - self.start_step)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        per_step = self.batch_size * self.world
        for step in range(self.start_step, self.total_steps):
            begin = step * per_step + self.rank * self.batch_size
            yield [self.key(begin + i) for i in range(self.batch_size)]
