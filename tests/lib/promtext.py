"""promtext.py — a strict parser of the Prometheus text exposition format 0.0.4 (the subset a
conforming exporter emits): HELP/TYPE comments, samples with optional labels, float values.

    families = parse(text)   # {name: {"type": ..., "help": ..., "samples": [(name, labels, value)]}}

Raises ValueError on the first line that does not conform.
"""
import math
import re

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
_SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)( -?\d+)?$" % (_NAME, _LABEL, _LABEL))
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
_SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def _family_of(name, families):
    if name in families:
        return name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return None


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("exposition must end with a newline")
    families = {}
    seen_samples = set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not re.fullmatch(_NAME, parts[2]):
                raise ValueError("line %d: malformed %s" % (lineno, parts[1]))
            fam = families.setdefault(parts[2], {"type": "untyped", "help": None,
                                                 "samples": []})
            if parts[1] == "TYPE":
                if parts[3] not in _TYPES:
                    raise ValueError("line %d: unknown type %r" % (lineno, parts[3]))
                if fam["samples"]:
                    raise ValueError("line %d: TYPE after samples" % lineno)
                fam["type"] = parts[3]
            else:
                fam["help"] = parts[3]
            continue
        if line.startswith("#"):
            continue
        if line == "":
            raise ValueError("line %d: empty line" % lineno)
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (lineno, line))
        name, labels_text, value = m.group(1), m.group(2) or "", m.group(7)
        labels = dict(re.findall(_LABEL, labels_text))
        try:
            number = float(value)
        except ValueError:
            raise ValueError("line %d: bad value %r" % (lineno, value))
        key = (name, tuple(sorted(labels.items())))
        if key in seen_samples:
            raise ValueError("line %d: duplicate sample %s" % (lineno, line))
        seen_samples.add(key)
        fam_name = _family_of(name, families)
        if fam_name is None:
            raise ValueError("line %d: sample %s before its TYPE" % (lineno, name))
        families[fam_name]["samples"].append((name, labels, number))
    for name, fam in families.items():
        if fam["type"] == "histogram":
            _check_histogram(name, fam["samples"])
        if fam["type"] == "counter":
            for _, _, v in fam["samples"]:
                if v < 0 or math.isnan(v):
                    raise ValueError("counter %s has value %r" % (name, v))
    return families


def _check_histogram(name, samples):
    series = {}
    for sname, labels, value in samples:
        base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(base, {"buckets": [], "count": None, "sum": None})
        if sname == name + "_bucket":
            le = labels.get("le")
            s["buckets"].append((math.inf if le == "+Inf" else float(le), value))
        elif sname == name + "_count":
            s["count"] = value
        elif sname == name + "_sum":
            s["sum"] = value
    for base, s in series.items():
        bounds = [b for b, _ in s["buckets"]]
        counts = [c for _, c in s["buckets"]]
        if not bounds or bounds[-1] != math.inf:
            raise ValueError("histogram %s%s lacks +Inf" % (name, base))
        if bounds != sorted(bounds) or counts != sorted(counts):
            raise ValueError("histogram %s%s buckets not cumulative" % (name, base))
        if s["count"] != counts[-1] or s["sum"] is None:
            raise ValueError("histogram %s%s count/sum wrong" % (name, base))


def value(families, name, **labels):
    """The value of the one sample name{labels...} (labels may be a subset), or None."""
    fam = families.get(_family_of(name, families) or name)
    if not fam:
        return None
    for sname, slabels, v in fam["samples"]:
        if sname == name and all(slabels.get(k) == v2 for k, v2 in labels.items()):
            return v
    return None
