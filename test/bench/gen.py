#!/usr/bin/env python3
"""gen.py -- deterministic data for the credimport benchmark (stdlib only).

Writes into OUTDIR:

  learners.csv                     id,email,first_name,last_name   (canonical, lower-case e-mail)
  credit_types.csv                 id,code,name                     (five types)
  credits-<N>-s<SEED>.csv          the credit file credimport_load reads:
                                   email,provider,course_title,course_id,
                                   completion_date,number_credits,credit_type,source_ref
                                   (source_ref is the extra column the loader ignores)
  resolved-<N>-s<SEED>.csv         the same N rows already resolved, COPY-able into
                                   credimport.credit (learner_id, credit_type_id,
                                   completion_date, number_credits, provider,
                                   course_title, course_id, user_editable, batch_id)

  wide-<N>-s<SEED>.csv / .xlsx     with --wide N: the same N credit rows (no
                                   source_ref) plus 60 extra columns the loader
                                   ignores (67 in all), as CSV and as an .xlsx
                                   written the way XlsxWriter writes one (shared
                                   strings, numbers, dates as styled serials,
                                   fullCalcOnLoad)

The learners and credit types depend only on --seed and --learners, so files of
several sizes made with one seed share them.  Files already made with the same
parameters by the same gen.py are kept (see the .stamp files); --force remakes.

Mix of the credit file: e-mail match by email; ~10% of e-mails in another case,
~2% with surrounding spaces inside a quoted field ("  Foo@x.org "); five credit
types; ISO dates 2015-01-01..2025-12-31; credits like 1.5 / 0.25 / 10; ~15% of
course titles (and one provider) contain commas and are quoted; every
(learner, course_id, credit_type, completion_date) is unique.
"""
import argparse
import datetime
import zipfile
import hashlib
import json
import os
import random
import sys

BATCH_ID = 1          # the batch id written into the resolved file (run inserts that batch)
N_COURSES = 4000

CREDIT_TYPES = [
    (1, "CME", "Continuing Medical Education"),
    (2, "CE", "Continuing Education"),
    (3, "CPD", "Continuing Professional Development"),
    (4, "CLE", "Continuing Legal Education"),
    (5, "PDU", "Professional Development Unit"),
]

FIRST = ["anna", "ben", "carla", "david", "eva", "felix", "greta", "hugo", "ines", "jonas",
         "karin", "lars", "maria", "nils", "olga", "paul", "quinn", "rosa", "sven", "tara",
         "ulla", "victor", "wanda", "xavier", "yara", "zoe", "amir", "bea", "chen", "dara"]
LAST = ["smith", "mueller", "garcia", "rossi", "dubois", "novak", "kowalski", "jensen",
        "silva", "tanaka", "okafor", "nguyen", "schmidt", "martin", "lopez", "berg",
        "costa", "ivanova", "murphy", "olsen", "patel", "kim", "weber", "fischer"]
DOMAINS = ["example.org", "example.com", "hospital.test", "uni.example.edu",
           "lawfirm.example", "mail.example.net", "clinic.test", "health.example"]

PROVIDERS = ["Medscape", "Coursera", "ACME Learning", "Ethics Institute", "State Bar Academy",
             "Nursing CE Central", "PMI Online", "Global Health Academy", "LexTrain",
             "CardioEd", "Open University", "Pharma Academy", "Radiology Hub",
             "Acme Learning, Inc.", "SafetyFirst Training", "Clinical Skills Network"]
TOPICS = ["Cardiology", "Oncology", "Pediatrics", "Contract Law", "Data Privacy", "Ethics",
          "Project Risk", "Agile Delivery", "Pharmacology", "Wound Care", "Radiation Safety",
          "Infection Control", "Tax Law", "Leadership", "Patient Safety", "Telehealth",
          "Sepsis", "Diabetes Care", "Litigation", "Mediation"]
LEVELS = ["Basics", "Update", "Advanced Topics", "Case Studies", "Review", "Masterclass"]
COMMA_TAILS = ["Part 1, Module A", "Diagnosis, Treatment and Follow-up",
               "Law, Practice, and Ethics", "Risk, Compliance", "2019, Revised"]
CREDITS = ["1", "1.5", "0.25", "10", "2", "0.5", "3", "0.75", "4.5", "12", "2.25", "6"]

DATE0 = datetime.date(2015, 1, 1)
NDAYS = (datetime.date(2025, 12, 31) - DATE0).days + 1


def quote(v):
    """CSV-quote when needed, and also when there is surrounding white space."""
    if any(c in v for c in ',"\r\n') or v != v.strip():
        return '"' + v.replace('"', '""') + '"'
    return v


def recase(rng, email):
    """The same address in another case (never identical to the lower-case one)."""
    k = rng.randrange(3)
    if k == 0:
        return email.upper()
    if k == 1:
        local, _, dom = email.partition("@")
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + dom
    s = "".join(c.upper() if rng.random() < 0.5 else c for c in email)
    return s if s != email else email.upper()


def stamp_ok(path, meta):
    try:
        with open(path) as f:
            return json.load(f) == meta
    except (OSError, ValueError):
        return False


def write_stamp(path, meta):
    with open(path, "w") as f:
        json.dump(meta, f)


def gen_learners(seed, n):
    rng = random.Random(f"learners:{seed}")
    rows = []
    for i in range(1, n + 1):
        fn, ln = rng.choice(FIRST), rng.choice(LAST)
        email = f"{fn}.{ln}.{i}@{rng.choice(DOMAINS)}"
        rows.append((i, email, fn.capitalize(), ln.capitalize()))
    return rows


def gen_courses(seed):
    rng = random.Random(f"courses:{seed}")
    courses = []
    for c in range(N_COURSES):
        prov = rng.choice(PROVIDERS)
        title = f"{rng.choice(TOPICS)} {rng.choice(LEVELS)}"
        if rng.random() < 0.15:
            title += ", " + rng.choice(COMMA_TAILS)
        cid = f"{prov[:3].upper()}-{c:05d}"
        courses.append((cid, prov, title))
    return courses


WIDE_EXTRA = 60
WORDS = ["alpha", "beta", "gamma", "delta", "north", "south", "east", "west", "red", "green",
         "blue", "amber", "river", "stone", "cloud", "field", "harbor", "maple", "cedar", "pine"]


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xml_escape(v):
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def gen_wide(a, learners, n):
    """n credit rows x 67 columns, as CSV and as an XlsxWriter-like .xlsx."""
    base = f"wide-{n}-s{a.seed}"
    cpath = os.path.join(a.outdir, base + ".csv")
    xpath = os.path.join(a.outdir, base + ".xlsx")
    meta = {"seed": a.seed, "learners": a.learners, "rows": n, "wide": WIDE_EXTRA,
            "gen": hashlib.sha256(open(os.path.abspath(__file__), "rb").read()).hexdigest()[:16]}
    stamp = os.path.join(a.outdir, base + ".stamp")
    if not a.force and stamp_ok(stamp, meta) and os.path.exists(cpath) and os.path.exists(xpath):
        return cpath, xpath
    courses = gen_courses(a.seed)
    rng = random.Random(f"wide:{a.seed}:{n}")
    header = ["email", "provider", "course_title", "course_id", "completion_date", "number_credits",
              "credit_type"] + [f"extra_{i + 1:02d}" for i in range(WIDE_EXTRA)]
    sst, sst_index = [], {}

    def si(v):
        i = sst_index.get(v)
        if i is None:
            i = sst_index[v] = len(sst)
            sst.append(v)
        return i

    seen = set()
    nl, nc, nt = len(learners), len(courses), len(CREDIT_TYPES)
    epoch = datetime.date(1899, 12, 30)
    with open(cpath + ".tmp", "w", newline="") as cf, \
            zipfile.ZipFile(xpath + ".tmp", "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        cf.write(",".join(header) + "\n")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sf:
            out = []
            out.append('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                       f'<dimension ref="A1:{col_name(len(header) - 1)}{n + 1}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
                       '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
            out.append('<row r="1" spans="1:67">' + "".join(
                f'<c r="{col_name(i)}1" t="s"><v>{si(h)}</v></c>' for i, h in enumerate(header)) + "</row>")
            for line in range(n):
                while True:
                    li, ci, ti, di = rng.randrange(nl), rng.randrange(nc), rng.randrange(nt), rng.randrange(NDAYS)
                    key = ((li * nc + ci) * nt + ti) * NDAYS + di
                    if key not in seen:
                        seen.add(key)
                        break
                cid, prov, title = courses[ci]
                day = DATE0 + datetime.timedelta(days=di)
                cr = CREDITS[rng.randrange(len(CREDITS))]
                vals = [learners[li][1], prov, title, cid, day, cr, CREDIT_TYPES[ti][1]]
                for k in range(WIDE_EXTRA):
                    if k % 3 == 2:
                        vals.append(str(rng.randrange(100000) / 100))
                    elif k % 3 == 1:
                        vals.append(f"{WORDS[rng.randrange(20)]} {WORDS[rng.randrange(20)]}")
                    else:
                        vals.append(f"ref-{rng.randrange(10 ** 7):07d}")
                r = line + 2
                csv_vals, cells = [], []
                for i, v in enumerate(vals):
                    ref = f"{col_name(i)}{r}"
                    if isinstance(v, datetime.date):
                        csv_vals.append(v.isoformat())
                        cells.append(f'<c r="{ref}" s="1"><v>{(v - epoch).days}</v></c>')
                    elif i == 5 or (i >= 7 and (i - 7) % 3 == 2):
                        csv_vals.append(v)
                        cells.append(f'<c r="{ref}"><v>{v}</v></c>')
                    else:
                        csv_vals.append(quote(v))
                        cells.append(f'<c r="{ref}" t="s"><v>{si(v)}</v></c>')
                cf.write(",".join(csv_vals) + "\n")
                out.append(f'<row r="{r}" spans="1:67">' + "".join(cells) + "</row>")
                if len(out) >= 1000:
                    sf.write("".join(out).encode())
                    out = []
            out.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
            sf.write("".join(out).encode())
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   '<workbookPr defaultThemeVersion="124226"/><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
                   '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                   '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/styles.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
                   '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                   '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>')
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                     f'count="{len(sst)}" uniqueCount="{len(sst)}">').encode())
            for i in range(0, len(sst), 10000):
                f.write("".join(f"<si><t>{xml_escape(v)}</t></si>" for v in sst[i:i + 10000]).encode())
            f.write(b"</sst>")
    os.replace(cpath + ".tmp", cpath)
    os.replace(xpath + ".tmp", xpath)
    write_stamp(stamp, meta)
    print(f"gen.py: wrote {n} x {len(header)} rows as CSV and .xlsx ({len(sst)} shared strings)", file=sys.stderr)
    return cpath, xpath


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--learners", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--wide", type=int, default=0,
                    help="write only the wide CSV and .xlsx of N rows (prints their paths)")
    a = ap.parse_args()
    if a.rows < 1 or a.learners < 1:
        sys.exit("gen.py: --rows and --learners must be positive")
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.abspath(__file__), "rb") as f:
        ver = hashlib.sha256(f.read()).hexdigest()[:16]

    # --- learners and credit types (depend on seed and learner count only)
    lmeta = {"gen": ver, "seed": a.seed, "learners": a.learners}
    lstamp = os.path.join(a.outdir, "learners.stamp")
    learners = gen_learners(a.seed, a.learners)
    if a.force or not stamp_ok(lstamp, lmeta):
        with open(os.path.join(a.outdir, "learners.csv"), "w", newline="") as f:
            f.write("id,email,first_name,last_name\n")
            for r in learners:
                f.write(f"{r[0]},{quote(r[1])},{quote(r[2])},{quote(r[3])}\n")
        with open(os.path.join(a.outdir, "credit_types.csv"), "w", newline="") as f:
            f.write("id,code,name\n")
            for t in CREDIT_TYPES:
                f.write(f"{t[0]},{t[1]},{quote(t[2])}\n")
        write_stamp(lstamp, lmeta)
        print(f"gen.py: wrote {a.learners} learners and {len(CREDIT_TYPES)} credit types", file=sys.stderr)

    if a.wide:
        for p in gen_wide(a, learners, a.wide):
            print(p)
        return

    # --- the credit file and its resolved twin
    base = f"{a.rows}-s{a.seed}"
    cpath = os.path.join(a.outdir, f"credits-{base}.csv")
    rpath = os.path.join(a.outdir, f"resolved-{base}.csv")
    cmeta = dict(lmeta, rows=a.rows)
    cstamp = os.path.join(a.outdir, f"credits-{base}.stamp")
    if not a.force and stamp_ok(cstamp, cmeta) and os.path.exists(cpath) and os.path.exists(rpath):
        print(cpath)
        print(rpath)
        return

    courses = gen_courses(a.seed)
    rng = random.Random(f"credits:{a.seed}:{a.rows}")
    nl, nc, nt = a.learners, len(courses), len(CREDIT_TYPES)
    if a.rows > nl * nc * nt * NDAYS // 2:
        sys.exit("gen.py: too many rows for unique keys")
    seen = set()
    recased = spaced = 0
    with open(cpath + ".tmp", "w", newline="") as cf, open(rpath + ".tmp", "w", newline="") as rf:
        cf.write("email,provider,course_title,course_id,completion_date,number_credits,credit_type,source_ref\n")
        rf.write("learner_id,credit_type_id,completion_date,number_credits,provider,course_title,course_id,user_editable,batch_id\n")
        cw, rw = cf.write, rf.write
        for line in range(a.rows):
            while True:
                li = rng.randrange(nl)
                ci = rng.randrange(nc)
                ti = rng.randrange(nt)
                di = rng.randrange(NDAYS)
                key = ((li * nc + ci) * nt + ti) * NDAYS + di
                if key not in seen:
                    seen.add(key)
                    break
            lid, email = learners[li][0], learners[li][1]
            r = rng.random()
            if r < 0.10:
                email = recase(rng, email)
                recased += 1
            if rng.random() < 0.02:
                email = " " * rng.randrange(1, 3) + email + " " * rng.randrange(1, 3)
                spaced += 1
            cid, prov, title = courses[ci]
            tid, tcode = CREDIT_TYPES[ti][0], CREDIT_TYPES[ti][1]
            date = (DATE0 + datetime.timedelta(days=di)).isoformat()
            cr = CREDITS[rng.randrange(len(CREDITS))]
            qprov, qtitle = quote(prov), quote(title)
            cw(f"{quote(email)},{qprov},{qtitle},{cid},{date},{cr},{tcode},ext-{rng.randrange(10**6):06d}\n")
            rw(f"{lid},{tid},{date},{cr},{qprov},{qtitle},{cid},f,{BATCH_ID}\n")
    os.replace(cpath + ".tmp", cpath)
    os.replace(rpath + ".tmp", rpath)
    write_stamp(cstamp, cmeta)
    print(f"gen.py: wrote {a.rows} credit rows ({recased} re-cased e-mails, {spaced} with spaces)", file=sys.stderr)
    print(cpath)
    print(rpath)


if __name__ == "__main__":
    main()
