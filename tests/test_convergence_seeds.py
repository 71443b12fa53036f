"""The convergence check runs only the grading seeds its verdict needs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.test_choices import settle

SEEDS, NEEDED = 20, 17


class Judge:
    """Plays the student's runs: seed i passes when outcomes[i] is True."""

    def __init__(self, outcomes):
        self.outcomes = np.asarray(outcomes, dtype=bool)
        self.batches = []

    def __call__(self, batch):
        self.batches.append(list(batch))
        passes = self.outcomes[batch]
        return np.ones(len(batch), dtype=bool), passes


def fewest_seeds(outcomes) -> int:
    """Running seeds one at a time, where the verdict becomes certain."""
    passes = np.cumsum(outcomes)
    fails = np.arange(1, len(outcomes) + 1) - passes
    settled = (passes >= NEEDED) | (fails > SEEDS - NEEDED)
    return int(np.argmax(settled)) + 1


def outcome_table():
    rng = np.random.default_rng(7)
    rows = {
        "all pass": [True] * SEEDS,
        "all fail": [False] * SEEDS,
        "exactly enough, misses first": [False] * 3 + [True] * 17,
        "exactly enough, misses last": [True] * 17 + [False] * 3,
        "one short": [False] * 4 + [True] * 16,
    }
    for rate in (0.3, 0.55, 0.8, 0.95):
        for number in range(50):
            rows[f"random, pass rate {rate}, #{number}"] = rng.random(SEEDS) < rate
    return rows


@pytest.mark.parametrize("outcomes", outcome_table().values(), ids=outcome_table())
def test_settles_with_the_verdict_of_every_seed_and_stops_once_it_is_certain(
    outcomes,
):
    judge = Judge(outcomes)
    followed, reached = settle(judge, list(range(SEEDS)), NEEDED)

    run = [seed for batch in judge.batches for seed in batch]
    assert run == list(range(len(run))), "seeds run in order, each once"
    verdict = int(np.sum(followed & reached)) >= NEEDED
    assert verdict == (int(np.sum(outcomes)) >= NEEDED)
    certain_after = fewest_seeds(outcomes)
    starts = np.cumsum([0] + [len(batch) for batch in judge.batches[:-1]])
    assert all(start < certain_after for start in starts), "a batch after certainty"
    assert len(run) >= certain_after


def early_failures():
    """The rows with a failure in the first batch: no optimistic batch runs then."""
    first = SEEDS - NEEDED + 1
    return {
        name: outcomes
        for name, outcomes in outcome_table().items()
        if not np.all(outcomes[:first])
    }


@pytest.mark.parametrize("outcomes", early_failures().values(), ids=early_failures())
def test_after_an_early_failure_runs_no_seed_the_verdict_does_not_need(outcomes):
    judge = Judge(outcomes)
    settle(judge, list(range(SEEDS)), NEEDED)
    assert sum(len(batch) for batch in judge.batches) == fewest_seeds(outcomes)


def test_an_honest_answer_costs_two_batches_and_a_hopeless_one_a_single_batch():
    honest = Judge([True] * SEEDS)
    settle(honest, list(range(SEEDS)), NEEDED)
    assert [len(batch) for batch in honest.batches] == [4, 13]

    hopeless = Judge([False] * SEEDS)
    settle(hopeless, list(range(SEEDS)), NEEDED)
    assert [len(batch) for batch in hopeless.batches] == [4]
