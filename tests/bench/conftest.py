"""Benchmarks: a fresh figures file per session, and the table of this session's figures at the end."""

from __future__ import annotations

import pytest

from tests.bench import report
from tests.bench.budget import percent_from_env


@pytest.fixture(scope="session", autouse=True)
def _figures_file():
    report.start_session()
    yield


def pytest_terminal_summary(terminalreporter) -> None:
    budget = percent_from_env()
    figures = report.load(report.results_path(budget))
    if figures:
        terminalreporter.section("benchmark figures" + (f" (daemon confined to {budget}% of one core)"
                                                        if budget else ""))
        terminalreporter.line(report.table(figures, []) if budget is None else report.table([], figures))
