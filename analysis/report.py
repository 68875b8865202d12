"""Loading and checking dsim reports (docs/report-format.md).

A report is read once and checked only as far as a plot needs it: each plot asks for the
fields it uses through the accessors below, which name the JSON pointer of anything missing
or of the wrong type. Every problem raises ReportError with a one-line message; plot.py
prefixes it with the file name. Nothing here imports matplotlib, so bad input fails fast.
"""

import json
import math
import re
from decimal import Decimal
from pathlib import Path


class ReportError(Exception):
    """Bad input: a one-line message, without the file name (the caller adds it)."""


class Report:
    """One loaded report: its file, its scenario name and its (non-empty) variant list."""

    def __init__(self, path, data):
        self.path = Path(path)
        self.data = data
        self.variants = data["variants"]
        scenario = data.get("scenario")
        name = scenario.get("name") if isinstance(scenario, dict) else None
        self.name = name if isinstance(name, str) and name else stem(self.path)

    def variant_name(self, index):
        name = self.variants[index].get("name")
        return name if isinstance(name, str) and name else f"variant {index}"

    def seeds(self):
        seeds = self.data.get("seeds")
        return len(seeds) if isinstance(seeds, list) else None


def stem(path):
    """'results/retry-storm.report.json' -> 'retry-storm' (the name default outputs are built on)."""
    name = Path(path).name
    for suffix in (".json", ".report"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def _reject_constant(name):
    # NaN and Infinity are not JSON; a figure that cannot be computed is null.
    raise ValueError(f"{name} is not valid JSON (use null)")


def load(path):
    """Reads and checks the frame of a report: an object with dsim_version and a non-empty
    list of variant objects. Raises ReportError otherwise."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ReportError("no such file") from None
    except IsADirectoryError:
        raise ReportError("is a directory, not a report") from None
    except UnicodeDecodeError:
        raise ReportError("not JSON (not UTF-8 text)") from None
    except OSError as error:
        raise ReportError(f"cannot read ({error.strerror or error})") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ReportError(f"not JSON (line {error.lineno} column {error.colno}: {error.msg})") from None
    except (ValueError, RecursionError) as error:
        raise ReportError(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ReportError(f"not a dsim report (the top level is {describe(data)}, not an object)")
    for key in ("dsim_version", "variants"):
        if key not in data:
            raise ReportError(f'not a dsim report (no "{key}")')
    variants = data["variants"]
    if not isinstance(variants, list):
        raise ReportError(f"/variants: expected a list of variants, got {describe(variants)}")
    if not variants:
        raise ReportError('no variants (the "variants" list is empty)')
    for index, variant in enumerate(variants):
        if not isinstance(variant, dict):
            raise ReportError(f"/variants/{index}: expected an object, got {describe(variant)}")
    return Report(path, data)


def describe(value):
    """A short description of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Need:
    """Typed access to one JSON object, remembering where it is (a JSON pointer) and which
    plot needs it, so that errors say what is wrong and where:
    '/variants/0/summary/latency_ms: no "p99" (the p99 plot needs it)'."""

    def __init__(self, obj, pointer, plot):
        self.obj, self.pointer, self.plot = obj, pointer, plot

    def _where(self, key):
        return f"{self.pointer}/{key}"

    def _get(self, key, optional):
        if key not in self.obj:
            if optional:
                return None
            raise ReportError(f'{self.pointer or "/"}: no "{key}" (the {self.plot} plot needs it)')
        return self.obj[key]

    def _wrong(self, key, expected, value):
        return ReportError(f"{self._where(key)}: expected {expected}, got {describe(value)}")

    def number(self, key, nullable=False, optional=False, minimum=None):
        """A finite number; None when null (nullable) or absent (optional)."""
        value = self._get(key, optional)
        if value is None and (nullable or optional and key not in self.obj):
            return None
        expected = "a number or null" if nullable else "a number"
        if not _is_number(value):
            raise self._wrong(key, expected, value)
        if minimum is not None and value < minimum:
            raise ReportError(f"{self._where(key)}: expected a number >= {minimum}, got {describe(value)}")
        return float(value)

    def string(self, key, optional=False):
        value = self._get(key, optional)
        if value is None and optional and key not in self.obj:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def duration_ms(self, key, optional=False, positive=False):
        """A duration string as dsim writes it ("2ms", "500us", "1.5s"), in ms; None when absent
        (optional)."""
        value = self._get(key, optional)
        if value is None and optional and key not in self.obj:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, 'a duration like "2ms"', value)
        try:
            ms = parse_duration_ms(value)
        except ValueError as error:
            raise ReportError(f"{self._where(key)}: {error}") from None
        if positive and ms <= 0:
            raise ReportError(f"{self._where(key)}: expected a duration above 0, got {describe(value)}")
        return ms

    def boolean(self, key, optional=False, default=False):
        value = self._get(key, optional)
        if key not in self.obj:
            return default
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def child(self, key, nullable=False, optional=False):
        """A nested object as a Need; None when null (nullable) or absent (optional)."""
        value = self._get(key, optional)
        if value is None and (nullable or key not in self.obj):
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return Need(value, self._where(key), self.plot)

    def items(self, key, optional=False):
        """A list of objects as Needs; an absent optional list is empty."""
        value = self._get(key, optional)
        if value is None and key not in self.obj:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        needs = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ReportError(f"{self._where(key)}/{index}: expected an object, got {describe(item)}")
            needs.append(Need(item, f"{self._where(key)}/{index}", self.plot))
        return needs

    def interval(self, key):
        """A 95 % interval [low, high] of numbers; None when null or absent (fewer than 2 seeds)."""
        value = self._get(key, True)
        if value is None:
            return None
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
            raise self._wrong(key, "[low, high] or null", value)
        low, high = float(value[0]), float(value[1])
        if low > high:
            raise ReportError(f"{self._where(key)}: low {value[0]} is above high {value[1]}")
        return low, high

    def rows(self, key, width):
        """A list of number lists of the given width (histogram buckets)."""
        value = self._get(key, False)
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        rows = []
        for index, row in enumerate(value):
            if not (isinstance(row, list) and len(row) == width and all(_is_number(v) for v in row)):
                raise ReportError(
                    f"{self._where(key)}/{index}: expected a list of {width} numbers, got {describe(row)}"
                )
            rows.append([float(v) for v in row])
        return rows


# dsim's duration units (sim/time.cpp), in ns
DURATION_UNITS_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))([a-z]*)")


def parse_duration_ms(text):
    """A duration in dsim's syntax (sim/time.cpp: a decimal number and one of ns, us, ms, s, m,
    h; or a bare "0"), in ms: "2ms" -> 2.0, "500us" -> 0.5, "1.5s" -> 1500.0. Raises ValueError
    with a one-line reason otherwise."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f'expected a duration like "250ms" or "1.5s", got {describe(text)}')
    number, unit = match.groups()
    if not unit:
        if number == "0":
            return 0.0
        raise ValueError(f"expected a duration (missing unit: use ns, us, ms, s, m or h), got {describe(text)}")
    if unit not in DURATION_UNITS_NS:
        raise ValueError(f'expected a duration (unknown unit "{unit}": use ns, us, ms, s, m or h), '
                         f"got {describe(text)}")
    return float(Decimal(number) * DURATION_UNITS_NS[unit] / 10**6)  # exact, then rounded once


def variants(report, plot):
    """(name, Need) for each variant of a report, checked for the given plot."""
    return [
        (report.variant_name(index), Need(variant, f"/variants/{index}", plot))
        for index, variant in enumerate(report.variants)
    ]


def _components(variant):
    """A variant's effective components (a Need), or None when the report does not say."""
    scenario = variant.child("scenario", nullable=True, optional=True)
    if scenario is None:
        return None
    return scenario.child("components", nullable=True, optional=True)


def model_of(components, name):
    """The model of component `name` of a components Need (None when the report does not say)."""
    return components.child(name).string("model", optional=True)


def by_component(report, plot, model, kind, component, build, plural=None, needs=None):
    """build(variant name, variant Need, components Need, component name) for every component
    whose model is `model` (one model name, or a tuple of names: any of them) (only `component`
    when given) in every variant; returns (the built
    items, the (variant, component) pairs where the component is absent). `kind` names such a
    component in messages ("sharder"; `plural` and `needs` override "sharders" and "a sharder
    component: one"). Raises ReportError when the report has none, or when `component` is not one
    of them."""
    wanted = (model,) if isinstance(model, str) else tuple(model)
    checked = [(name, variant, _components(variant)) for name, variant in variants(report, plot)]
    chosen, models = [], {}
    for _, _, components in checked:
        for name in components.obj if components is not None else ():
            found = model_of(components, name)
            models.setdefault(name, found)
            if found in wanted and name not in chosen:
                chosen.append(name)
    if not chosen:
        names = " or ".join(f'"{m}"' for m in wanted)
        raise ReportError(f'no {kind} component (the {plot} plot needs {needs or f"a {kind} component: one"} '
                          f"whose model is {names} in /variants/*/scenario/components)")
    if component is not None:
        if component not in chosen:
            what = (f'"{component}" is a {models[component]}, not a {kind}' if models.get(component)
                    else f'no {kind} "{component}"')
            raise ReportError(f"--component: {what} (the {plural or kind + 's'}: {', '.join(chosen)})")
        chosen = [component]
    items, absent = [], []
    for name, variant, components in checked:
        for one in chosen:
            if components is None or one not in components.obj or model_of(components, one) not in wanted:
                absent.append((name, one))
                continue
            items.append(build(name, variant, components, one))
    return items, absent
