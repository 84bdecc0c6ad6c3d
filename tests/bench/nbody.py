"""The n-body kernel of the Computer Language Benchmarks Game (the five Jovian planets, advanced with a fixed
time step), the workload of the published Raspberry Pi 4 Python figure the Pi budget is derived from.

`python -m tests.bench.nbody [STEPS]` prints the CPU seconds this machine needs for 5,000,000 steps.
"""

from __future__ import annotations

import sys
import time

PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24
PUBLISHED_STEPS = 5_000_000


def _bodies() -> list[list]:
    def body(x, y, z, vx, vy, vz, mass):
        return [[x, y, z], [vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR, vz * DAYS_PER_YEAR], mass * SOLAR_MASS]

    return [
        body(0, 0, 0, 0, 0, 0, 1),  # the sun
        body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
             1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04),
        body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
             -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04),
        body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
             2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05),
        body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
             2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05),
    ]


def advance(steps: int, dt: float = 0.01) -> list[list]:
    bodies = _bodies()
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    for _ in range(steps):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in pairs:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1m, b2m = m1 * mag, m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for r, [vx, vy, vz], _m in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz
    return bodies


def cpu_seconds_for_published_run(steps: int = 200_000) -> float:
    """CPU seconds of `steps` steps here, scaled to the published 5,000,000."""
    t0 = time.process_time()
    advance(steps)
    return (time.process_time() - t0) * PUBLISHED_STEPS / steps


if __name__ == "__main__":
    print(f"{cpu_seconds_for_published_run(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000):.1f}")
