"""Latency histograms in fixed memory (the PCM pump's frame lateness): percentiles for the log, benchmarks, /metrics."""

from __future__ import annotations

import threading

BUCKET = 0.0005   # 0.5 ms
BUCKETS = 2000    # up to 1 s; later values land in the last bucket (the maximum is kept exactly)


class LatencyHistogram:
    """Seconds recorded in 0.5 ms buckets; any number of samples in the same few kilobytes."""

    def __init__(self) -> None:
        self._counts = [0] * BUCKETS
        self._lock = threading.Lock()
        self.count = 0
        self.maximum = 0.0
        self.total = 0.0

    def record(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        i = min(int(seconds / BUCKET), BUCKETS - 1)
        with self._lock:
            self._counts[i] += 1
            self.count += 1
            self.total += seconds
            if seconds > self.maximum:
                self.maximum = seconds

    def merge(self, other: "LatencyHistogram") -> None:
        with other._lock:
            counts, count, maximum, total = list(other._counts), other.count, other.maximum, other.total
        with self._lock:
            self._counts = [a + b for a, b in zip(self._counts, counts)]
            self.count += count
            self.total += total
            self.maximum = max(self.maximum, maximum)

    def percentile(self, p: float) -> float:
        """The upper edge of the bucket holding the p-th percentile (0 < p <= 100), capped at the maximum; 0 if empty."""
        with self._lock:
            if not self.count:
                return 0.0
            rank = max(1, round(self.count * p / 100.0))
            seen = 0
            for i, n in enumerate(self._counts):
                seen += n
                if seen >= rank:
                    return min((i + 1) * BUCKET, self.maximum)
        return self.maximum

    def summary_ms(self) -> str:
        return (f"p50 {self.percentile(50) * 1000:.1f} ms, p99 {self.percentile(99) * 1000:.1f} ms, "
                f"max {self.maximum * 1000:.1f} ms over {self.count}")
