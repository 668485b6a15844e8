#!/usr/bin/env python3
"""Generate a large signature file for the matching benchmark (bench/match_bench.cc).

    gen_rules.py --rules 2000 --seed 1 --out rules2000.yaml

Invented outlets -- Latin brand names ("Zarqun Media") and Arabic ones ("وكالة نبراس") built from
syllables, nothing real -- each with rules shaped like the stock file's: segment-opening identity
patterns, literal names (some as whole words), logo file names, handles and channel links, URL
and host patterns, copyright and release-header patterns, counter-evidence, a few proximity
patterns and a few generic layout rules that do fire on ordinary pages. Spread over every field.
The same arguments always give byte-identical output (no hash ordering, no clock).
"""

import argparse
import random
import sys

LATIN_SYLLABLES = ("zar", "qun", "vel", "mora", "tav", "ish", "kel", "dor", "bri", "lan", "sor",
                   "vek", "tal", "ion", "mer", "ith", "quo", "rav", "ent", "lux", "ova", "pel",
                   "dra", "nim", "osk", "ul", "ber", "yan", "cal", "der", "fen", "gra", "hol",
                   "jas", "kor", "lim", "nor", "pav", "rix", "sel", "tor", "vin", "wex", "zel")
LATIN_KINDS = ("Media", "Press", "News", "Radio", "Channel", "Foundation", "Studio", "Network",
               "Post", "Times", "Wire", "Review", "Herald", "Broadcast")
# Arabic syllables (bare letters; some names get a hamza or teh marbuta form that normalisation
# folds) and outlet kinds.
ARABIC_SYLLABLES = ("نب", "راس", "زر", "قون", "تال", "مير", "سد", "يان", "كو", "ثار", "لام",
                    "دور", "فين", "هال", "بار", "جود", "رين", "صاف", "غيم", "طار", "وس", "حين",
                    "شام", "ظل", "عود", "قار", "ليث", "منار", "ضي", "سلو")
ARABIC_KINDS = ("وكالة", "إذاعة", "مؤسسة", "شبكة", "مركز", "قناة", "صحيفة", "منصة", "مجلة", "دار")
# Never generate a name that is, or contains, one of the stock outlets' names.
FORBIDDEN = ("amaq", "bayan", "halum", "nashir", "اعماق", "بيان", "هلموا", "ناشر")

SEGMENT_START = r"(^|[|—–·•:»«\[\]()©/]|\s-\s)\s*((the|official|logo|©|\(c\)|[0-9]{4})\s*){0,2}"
WORD_END = r"([^\p{L}\p{N}]|$)"
LOGO_EXT = r"\.(png|svg|jpe?g|gif|webp)"
FIELDS = ("url", "host", "title", "site_name", "meta", "headings", "masthead", "footer", "logo",
          "links", "body", "quote")


def latin_name(rng, used):
    while True:
        word = "".join(rng.choice(LATIN_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        if 5 <= len(word) <= 10 and word not in used and not any(f in word for f in FORBIDDEN):
            used.add(word)
            return word


def arabic_name(rng, used):
    while True:
        word = "".join(rng.choice(ARABIC_SYLLABLES) for _ in range(2))
        if word not in used and not any(f in word for f in FORBIDDEN):
            used.add(word)
            return word


def spelling_variants(word):
    """A regex for a Latin name with the spelling variants a mirror uses (vowel swaps, doubled
    letters, leetspeak digits)."""
    out = []
    for i, c in enumerate(word):
        if c in "aeiou" and i > 0:
            out.append({"a": "[a4@]", "e": "[e3]", "i": "[i1y]", "o": "[o0]", "u": "[uo]"}[c])
        elif c in "lrs" and i > 0:
            out.append(c + "{1,2}")
        else:
            out.append(c)
    return "".join(out)


def arabic_variants(word):
    """A regex for an Arabic name: yeh and kaf in their Persian forms too (normalisation does not
    fold them), an optional definite article."""
    return "(ال)?" + "".join({"ي": "[يی]", "ك": "[كک]"}.get(c, c) for c in word)


def q(text):
    """YAML single-quoted scalar."""
    return "'" + text.replace("'", "''") + "'"


def flow(items):
    return "[" + ", ".join(items) + "]"


class Outlet:
    def __init__(self, rng, index, used):
        self.rng = rng
        self.id = "o%03d" % index
        self.latin = latin_name(rng, used)
        self.latin_kind = rng.choice(LATIN_KINDS)
        self.arabic = arabic_name(rng, used)
        self.arabic_kind = rng.choice(ARABIC_KINDS)
        self.arabic_first = rng.random() < 0.5
        self.display = (self.arabic_kind + " " + self.arabic if self.arabic_first
                        else self.latin.capitalize() + " " + self.latin_kind)
        self.rules = []

    def add(self, suffix, fields, weight, pattern=None, literal=None, word=False, tags=None):
        rule = {"id": "%s.%s%d" % (self.id, suffix, len(self.rules)), "fields": fields,
                "weight": weight, "word": word, "tags": tags or []}
        if pattern is not None:
            rule["pattern"] = pattern
        else:
            rule["literal"] = literal
        self.rules.append(rule)


def template_rules(o):
    """Every rule shape, as (weight for the draw, function adding the rule)."""
    rng = o.rng
    lat, kind, ar, akind = o.latin, o.latin_kind.lower(), o.arabic, o.arabic_kind
    lat_re = spelling_variants(lat)
    ar_re = arabic_variants(ar)
    # The pattern normaliser folds the Arabic kind (إذاعة -> اذاعه); written as in the wild here.
    return [
        (3, lambda: o.add("id.name", ["title", "site_name"], 5, tags=["identity"],
                          pattern=SEGMENT_START + "(" + lat_re + r"(\s*" + kind + ")?|" + akind +
                          r"\s*" + ar_re + ")" + WORD_END)),
        (3, lambda: o.add("id.strong", ["site_name", "masthead", "footer", "logo"], 2,
                          tags=["identity"],
                          pattern=SEGMENT_START + "(" + lat_re + "|" + ar_re + ")" + WORD_END)),
        (3, lambda: o.add("id.full", ["title", "site_name", "masthead", "footer"], 4,
                          tags=["identity"], word=True,
                          literal=[lat.capitalize() + " " + o.latin_kind, akind + " " + ar,
                                   lat + "-" + kind])),
        (2, lambda: o.add("id.ar", ["masthead", "footer", "logo"], 3, tags=["identity"],
                          word=True, literal=akind + " " + ar)),
        (2, lambda: o.add("logo.file", ["logo"], 2,
                          pattern=lat + r"[-_]?(logo|brand|icon)?[-_]?[0-9]{0,3}" + LOGO_EXT)),
        (2, lambda: o.add("logo.alt", ["logo"], 2,
                          pattern=r"(logo|شعار)\s*(of\s*)?(" + lat_re + "|" + ar_re + ")")),
        (2, lambda: o.add("handle", ["links", "body", "footer"], 2,
                          pattern="@" + lat + r"_?(" + kind + r"|news|official|ar|en)?\b")),
        (2, lambda: o.add("channel", ["links"], 3,
                          pattern=r"(t\.me|telegram\.me|matrix\.to/#)/[@+]?" + lat + r"\w{0,8}")),
        (1, lambda: o.add("url", ["url"], 1,
                          pattern="/" + lat + r"[-_]?(" + kind + r"|news)?(/|\.html?|$)")),
        (1, lambda: o.add("host", ["host"], 1,
                          pattern=r"^(www\.)?" + lat + r"[-.]?(" + kind + r")?\.")),
        (2, lambda: o.add("copyright", ["footer"], 2,
                          pattern=r"(©|\(c\)|copyright|حقوق\s*(النشر|الطبع)?)\s*([0-9]{4}\s*"
                                  r"[-–]?\s*)?(the\s+|ل?" + akind + r"\s*)?(" + lat_re + "|" +
                                  ar_re + ")")),
        (2, lambda: o.add("release", ["headings", "title"], 2,
                          pattern="(" + lat + "|" + ar + r")\s*[|—–:-]\s*(bulletin|issue|release|"
                                  r"نشره|اصدار)\s*(no\.?|رقم)?\s*[0-9]{1,4}")),
        (2, lambda: o.add("meta", ["meta"], 1, word=rng.random() < 0.5,
                          literal=[lat, lat + " " + kind, ar])),
        (1, lambda: o.add("heading.alone", ["headings"], 2,
                          pattern="^(" + lat + "|" + akind + r"\s*" + ar + r")(\s*" + kind +
                                  ")?$")),
        (1, lambda: o.add("quote", ["quote"], -3, word=True, literal=[lat, ar])),
        (2, lambda: o.add("body", ["body"], 1, word=True, literal=lat.capitalize())),
        (2, lambda: o.add("body.ar", ["body"], 1, literal=akind + " " + ar)),
        (2, lambda: o.add("not.shop", ["title", "masthead", "site_name"], -25,
                          pattern=lat_re + r"\s+(restaurant|bakery|cafe|hotel|dental|salon|"
                                           r"diving|yoga|florist)")),
        (2, lambda: o.add("not.shop.ar", ["title", "masthead", "site_name"], -25,
                          pattern=r"(مطعم|مخبز|فندق|صالون|مقهى|مكتبه)\s*" + ar_re)),
        (1, lambda: o.add("near", ["title", "meta"], 1,
                          pattern="(" + lat + "|" + ar + r").{0,20}(agency|network|radio|"
                                  r"وكاله|اذاعه)")),
        (1, lambda: o.add("any", ["any"], 1, word=True,
                          literal=[lat + "_" + kind, lat + "official"])),
        (1, lambda: o.add("report", ["title", "headings"], -5,
                          pattern=r"(police|europol|takedown|shut\s*down|الشرطه|اغلاق).{0,40}" +
                                  lat_re)),
    ]


# Layout rules that fire on ordinary pages (copyright lines, menus, channel links), as real
# signature files carry for corroboration; they keep the second, per-rule pass busy.
GENERIC = [
    (["footer"], r"(©|\(c\)|copyright)\s*[0-9]{4}"),
    (["footer", "body"], r"(all rights reserved|جميع الحقوق محفوظه)"),
    (["links"], r"(t\.me|telegram\.me)/\w+"),
    (["masthead", "headings"], r"(الرئيسيه|home)\s*(\||·|-)?\s*(اخبار|news)"),
    (["title"], r"\s[|—–-]\s"),
    (["logo"], r"logo" + LOGO_EXT),
    (["meta"], r"(اخبار|news|radio|اذاعه)"),
    (["body"], r"(lorem ipsum|نص تجريبي)"),
]


def generate(total, seed):
    rng = random.Random(seed)
    used = set()
    outlets = []
    generic_left = list(GENERIC)
    while sum(len(o.rules) for o in outlets) < total:
        o = Outlet(rng, len(outlets) + 1, used)
        templates = template_rules(o)
        # Identity first (every outlet has require_any: identity), then a weighted draw.
        templates[0][1]()
        if generic_left and len(outlets) % 12 == 5:
            fields, pattern = generic_left.pop(0)
            o.add("layout", fields, 1, pattern=pattern)
        # The other shapes drawn without replacement, weighted: 12 to 22 rules per outlet.
        left = templates[1:]
        want = min(rng.randint(12, 22), total - sum(len(x.rules) for x in outlets))
        while len(o.rules) < want and left:
            pick = rng.choices(range(len(left)), [w for w, _ in left])[0]
            left.pop(pick)[1]()
        outlets.append(o)
    return outlets


def write(outlets, total, seed, out):
    lines = ["# Generated by bench/gen_rules.py --rules %d --seed %d: invented outlets for the "
             "matching benchmark." % (total, seed),
             "# Not a detection file: the names are made up.", "version: 1", "outlets:"]
    for o in outlets:
        lines += ["  - id: " + o.id, "    name: " + q(o.display), "    threshold: 10",
                  "    require_any: [identity]", "    rules:"]
        for r in o.rules:
            lines.append("      - id: " + r["id"])
            lines.append("        fields: " + flow(r["fields"]))
            if "pattern" in r:
                lines.append("        pattern: " + q(r["pattern"]))
            elif isinstance(r["literal"], list):
                lines.append("        literal: " + flow(q(x) for x in r["literal"]))
            else:
                lines.append("        literal: " + q(r["literal"]))
            if r["word"]:
                lines.append("        word: true")
            lines.append("        weight: %g" % r["weight"])
            if r["tags"]:
                lines.append("        tags: " + flow(r["tags"]))
    text = "\n".join(lines) + "\n"
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    outlets = generate(args.rules, args.seed)
    write(outlets, args.rules, args.seed, args.out)
    fields = {f: 0 for f in FIELDS}
    for o in outlets:
        for r in o.rules:
            for f in (FIELDS if r["fields"] == ["any"] else r["fields"]):
                fields[f] += 1
    print("%s: %d rules, %d outlets; rules per field: %s" % (
        args.out, sum(len(o.rules) for o in outlets), len(outlets),
        ", ".join("%s %d" % kv for kv in fields.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
