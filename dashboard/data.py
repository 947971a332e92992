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


def campaign_slug(name):
    """The report id of a campaign in its URL: "Back to school" -> "back-to-school"."""
    return name.lower().replace(" ", "-")


def campaign_weekly_leads(name):
    """Leads per week over the eight weeks of a campaign."""
    rng = random.Random(f"marketing:campaign:{name}")
    peak = 300 + 100 * CAMPAIGNS.index(name)
    return [round(peak * math.sin((i + 1) / 9 * math.pi) + rng.uniform(-30, 30)) for i in range(8)]


def channel_attribution(channel, months):
    """Share of conversions credited to one channel over the first `months`
    months: the slow step of the attribution model."""
    leads = channel_series(channel)[:months]
    weight = 1.0 + CHANNELS.index(channel) * 0.15
    return sum(leads) * weight


STAFF_FIRST = ["Ada", "Bram", "Chloe", "Dev", "Esme", "Farid", "Greta", "Hugo", "Ines", "Jonas",
               "Kira", "Luca"]
STAFF_LAST = ["Lindqvist", "Okafor", "Marchetti", "Nakamura", "Duarte", "Novak"]
ROLES = {"engineering": ["Engineer", "Senior engineer", "Team lead"],
         "sales": ["Account executive", "Sales manager"],
         "support": ["Support agent", "Support lead"],
         "finance": ["Accountant", "Controller"]}


def staff():
    """The staff directory: one dict per person."""
    rng = random.Random("hr:staff")
    people = []
    for i, first in enumerate(STAFF_FIRST):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        people.append({
            "name": f"{first} {STAFF_LAST[i % len(STAFF_LAST)]}",
            "department": department,
            "role": rng.choice(ROLES[department]),
            "since": 2016 + rng.randint(0, 9),
        })
    return people
