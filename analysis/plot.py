#!/usr/bin/python3
"""Plots from dsim reports (docs/report-format.md); never re-runs a simulation.

  plot.py p99 REPORT.json [REPORT.json ...] [-o out.png]    p99 per variant, 95 % CI, p50/p99.9
  plot.py cdf REPORT.json [REPORT.json ...] [-o out.png]    latency tail, log-log 1 - CDF
  plot.py timeline REPORT.json [-o out.png]                 windows over simulated time
  plot.py availability REPORT.json [...] [-o out.png]       availability in nines, downtime/30 days
  plot.py shards REPORT.json [...] [--component NAME] [-o out.png]
                                                           per shard: load share, p99, utilization
  plot.py detectors REPORT.json [...] [--component NAME] [-o out.png]
                                                           detection time vs false suspicions/h
  plot.py ownership REPORT.json [--seed N] [-o out.png]    who believes it owns or leads, per node
  plot.py downtime REPORT.json [...] [--component NAME] [-o out.png]
                                                           time without a leader after a leader
                                                           crash, CDF over a leader crasher's trials
  plot.py budget REPORT.json [-o out.png]                   an SLO's error budget left over time, its
                                                           alerts' firings and the faults
  plot.py staleness REPORT.json [...] [--component NAME] [-o out.png]
                                                           P(a read is stale) against the time since
                                                           the write, per variant of a replicated store
  plot.py tenants REPORT.json [...] [-o out.png]            each tenant's failed share, worst first:
                                                           how many tenants were hurt, how badly

PNG unless -o ends in .svg or .pdf (or --format says so). Without -o the figure goes beside the
first report: results/retry-storm.report.json -> results/retry-storm.p99.png. Bad input is a
one-line error on stderr and exit status 2; see analysis/README.md.
"""

import argparse
import importlib
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report as reports  # noqa: E402  (after the path: the modules live beside this script)

PROG = "plot.py"
FORMATS = ("png", "svg", "pdf")
KINDS = {
    "p99": "p99 latency per variant: bars with 95 % CI across seeds, p50 and p99.9 markers",
    "cdf": "latency per variant as a complementary CDF (1 - F) on log-log axes",
    "timeline": "throughput, errors, p99 and availability per window over simulated time",
    "availability": "availability per variant in nines, with the downtime per 30 days",
    "shards": "per shard of a sharder: share of the load against 1/S, p99 of its calls, utilization",
    "detectors": "per failure detector: mean detection time against false suspicions per hour, a point per variant",
    "ownership": "who believes it owns or leads, one row per node, one seed: overlaps (two owners) and no owner marked",
    "downtime": "time without a leader after a leader crash: CDF over the trials of a leader crasher, per variant",
    "budget": "error budget remaining over time per variant, each alert rule's firings and the faults shaded",
    "staleness": "probability that a read of a replicated store is stale against the time since the write, "
                 "95 % Wilson interval, one line per variant",
    "tenants": "each tenant's (client group's) failed requests, sorted worst first, one curve per variant: "
               "how many tenants a fault hurt and how badly",
}
# kinds that pick one component: the kind of component, named as its model is with "_" for " "
WITH_COMPONENT = {"shards": "sharder", "detectors": "failure detector", "downtime": "leader crasher",
                  "staleness": "replicated store"}
# the models of those components, where they are not the kind's name with "_" for " "
COMPONENT_MODELS = {"staleness": "leader_follower_store or quorum_store"}
ONE_REPORT = ("timeline", "ownership", "budget")  # kinds that plot a single report
WITH_SCALE = {"p99": "latency axis (auto: log when p99.9 / p50 spans more than 30x)",
              "downtime": "time axis (auto: log when the longest downtime is over 30x the shortest)"}


class UsageError(Exception):
    """A bad output path or format: reported like bad input (exit status 2)."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=PROG, description="Plots from dsim JSON reports.")
    commands = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, help_text in KINDS.items():
        # argparse %-formats help strings (not descriptions): "95 %" must be "95 %%" there.
        command = commands.add_parser(kind, help=help_text.replace("%", "%%"), description=help_text)
        if kind in ONE_REPORT:
            command.add_argument("reports", nargs=1, metavar="REPORT.json")
        else:
            command.add_argument("reports", nargs="+", metavar="REPORT.json")
        command.add_argument("-o", "--output", metavar="FILE",
                             help="the figure to write (.png, .svg or .pdf), or a directory for it; default: "
                                  f"beside the first report, <report stem>.{kind}.png")
        command.add_argument("--format", choices=FORMATS, help="image format (default: from -o, else png)")
        if kind in WITH_SCALE:
            command.add_argument("--scale", choices=("auto", "linear", "log"), default="auto",
                                 help=WITH_SCALE[kind])
        if kind in WITH_COMPONENT:
            what = WITH_COMPONENT[kind]
            models = COMPONENT_MODELS.get(kind, what.replace(" ", "_"))
            command.add_argument("--component", metavar="NAME",
                                 help=f"the {what} to plot (default: every component whose model is {models})")
        if kind == "ownership":
            command.add_argument("--seed", type=int, metavar="N",
                                 help="the seed whose runs to plot (default: the first)")
    return parser.parse_args(argv)


def output_path(args):
    """(path, format) of the figure to write."""
    fmt = args.format
    first = Path(args.reports[0])
    default_name = f"{reports.stem(first)}.{args.kind}.{fmt or 'png'}"
    if args.output is None:
        return first.parent / default_name, fmt or "png"
    if not args.output.strip():
        raise UsageError("-o: the file name is empty")
    if args.output.endswith(("/", os.sep)) or Path(args.output).is_dir():
        return Path(args.output) / default_name, fmt or "png"  # -o figures/: the default name there
    path = Path(args.output)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        if fmt and fmt != suffix:
            raise UsageError(f"{path}: the extension says {suffix} but --format says {fmt}")
        return path, suffix
    if not suffix:
        fmt = fmt or "png"
        return path.with_name(f"{path.name}.{fmt}"), fmt
    if fmt:
        return path, fmt
    raise UsageError(f'{path}: unknown image format ".{suffix}" (use .png, .svg or .pdf, or --format)')


def group_labels(loaded):
    """The reports' scenario names, made distinct with the file name where two are equal."""
    names = [r.name for r in loaded]
    labels = []
    for r in loaded:
        if names.count(r.name) == 1:
            labels.append(r.name)
        else:
            stems = [str(x.path) for x in loaded if x.name == r.name]
            file = r.path.name if len({Path(s).name for s in stems}) == len(stems) else str(r.path)
            labels.append(f"{r.name} ({file})")
    return labels


class InputError(Exception):
    """Bad input in one file: (file, message)."""


def checked(path, step):
    """step(), with a ReportError turned into an InputError that names the file."""
    try:
        return step()
    except reports.ReportError as error:
        raise InputError(path, str(error)) from None


def plot(args):
    path, fmt = output_path(args)
    loaded = [checked(p, lambda p=p: reports.load(p)) for p in args.reports]
    # Each kind is the module of the same name; it imports matplotlib, so only now, once the
    # arguments and files are known to be good.
    module = importlib.import_module(args.kind)
    options = {"component": args.component} if args.kind in WITH_COMPONENT else {}
    if args.kind == "ownership":
        options = {"seed": args.seed}
    extracted = [checked(r.path, lambda r=r: module.extract(r, **options)) for r in loaded]
    if not path.parent.is_dir():
        raise UsageError(f"{path}: cannot write (no directory {path.parent})")
    if args.kind in ONE_REPORT:
        fig = module.draw(extracted[0])
    else:
        seeds = [r.seeds() for r in loaded]
        extra = {"scale": args.scale} if args.kind in WITH_SCALE else {}
        fig = module.draw(extracted, group_labels(loaded), seeds, **extra)
    import figure

    try:
        figure.save(fig, path, fmt)
    except OSError as error:
        raise UsageError(f"{path}: cannot write ({error.strerror or error})") from None
    return path


def one_line(text):
    return " ".join(str(text).split())


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with warnings.catch_warnings():
            # matplotlib's layout advice on odd data is no use to a reader of the figure.
            warnings.simplefilter("ignore")
            path = plot(args)
    except InputError as error:
        file, message = error.args
        print(f"{PROG}: {one_line(file)}: {one_line(message)}", file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"{PROG}: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug here, not bad input: still one line, status 1
        print(f"{PROG}: internal error: {type(error).__name__}: {one_line(error)}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
