"""Deterministic synthetic data for the demo (no downloads, no pandas)."""
import math
import random

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

CHANNELS = ["email", "social", "search", "display"]

DEPARTMENTS = ["engineering", "sales", "support", "finance"]

CAMPAIGNS = ["Spring launch", "Summer sale", "Back to school", "Holiday push"]


def channel_series(channel):
    """Monthly leads for one marketing channel."""
    rng = random.Random(f"marketing:{channel}")
    base = 200 + 150 * CHANNELS.index(channel)
    return [
        round(base + 60 * math.sin(i / 12 * 2 * math.pi + rng.random()) + rng.uniform(-25, 25))
        for i in range(12)
    ]


def conversion_trend(months):
    """Conversion rate (%) per month for the first `months` months, all channels."""
    rng = random.Random("marketing:conversion")
    values = [round(2.0 + 1.2 * math.sin(i / 3) + rng.uniform(0, 0.6), 2) for i in range(12)]
    return MONTHS[:months], values[:months]


def headcount(department, years):
    """Year-end headcount of a department for the last `years` years."""
    rng = random.Random(f"hr:{department}")
    start = 20 + 15 * DEPARTMENTS.index(department)
    counts, n = [], start
    for _ in range(10):
        n = max(5, n + rng.randint(-3, 9))
        counts.append(n)
    labels = [str(2016 + i) for i in range(10)]
    return labels[-years:], counts[-years:]
