"""``python -m bench.extraction``: extraction quality and cost over every fixture article page.

Four extractors read the same pages: tgwatch with the built-in profile of each fixture site's
template, tgwatch in generic mode (``profile = "generic"``: no selectors, no CMS family recognised),
tgwatch leaving the page's template out (see below), and plain ``trafilatura.extract(html)`` as the
baseline.

Leave one template out: a page is read with no profile of its own and with every built-in CMS
family recognisable *except* the family profile written for the page's template, so the selectors
written against that template's fixtures never touch its pages: the template is an unknown CMS,
while the families of the other templates stay known (a page gets one of them only if it carries
that family's marks). Beside the pooled rows, a table scores generic and leave-one-out mode per
template, so no figure hides a weak template behind strong ones. What this does not remove: the
generic rules themselves were written with all templates in view, so the per-template rows of
templates added after a rule are the fairer measure of that rule.

``fixtures/samples/`` (faithful pages of six real outlets' layouts, hand-written gold) is scored the
same way, in a table of its own; its non-article pages (listings, not-found pages) count as right
when tgwatch refuses them. Paragraphs are compared as lines (NFC, spaces
folded) with the gold ``text_lines``; a chrome line counts as leaked when an extracted line is that
line (or that line followed by ":"). The baseline's date comes from ``trafilatura.extract_metadata``
(day precision, so it is compared by day) and its time is that of ``extract()`` alone. Times are
the best of ``--repeat`` runs per page, the extractors interleaved page by page.

Example:
  python -m bench.extraction                 # fixtures/sites + fixtures/gold
  python -m bench.extraction --fixtures /tmp/fx --repeat 3
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import trafilatura

from crawler.extract import extract
from crawler.profiles import GENERIC, SiteProfile, builtin_profiles, family_profiles
from fixtures import templates as fixture_templates
from fixtures.tree import file_for
from storage.content import normalise_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = FIXTURES / "samples"
BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Page:
    """One fixture article page and what a perfect extractor returns for it."""

    version: str
    site: str
    template: str
    url: str
    html: bytes
    gold: dict
    profile: str = ""  # the built-in profile written for the page's template

    @property
    def is_article(self) -> bool:
        return bool(self.gold.get("article", True))


@dataclass
class Score:
    """Running totals of one extractor over the pages."""

    name: str
    matched: int = 0
    extracted: int = 0
    expected: int = 0
    leaked: int = 0
    dates: int = 0
    titles: int = 0
    authors: int = 0
    categories: int = 0
    pages: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def ms(self) -> float:
        return 1000 * self.seconds / self.pages if self.pages else 0.0


def lines_of(text: str | None) -> list[str]:
    """Text as the gold compares it: one normalised line per paragraph."""
    return [line for line in normalise_text(text or "").split("\n") if line]


def leaked(lines: list[str], chrome: list[str]) -> list[str]:
    """The chrome lines that appear as lines of the extracted text."""
    have = set(lines)
    return [c for c in chrome if c in have or any(line.startswith(c + ":") for line in lines)]


def templates(fixtures: Path) -> dict[str, str]:
    """Fixture site name -> template, from ``fixtures/data/<site>.toml``."""
    out: dict[str, str] = {}
    for path in sorted((fixtures / "data").glob("*.toml")):
        meta = tomllib.loads(path.read_text(encoding="utf-8")).get("site", {})
        out[str(meta.get("name") or path.stem)] = str(meta.get("template") or "tuyengiao")
    return out


def profile_of(template: str) -> str:
    """The built-in profile a fixture template is read with (its ``PROFILE``, else its name)."""
    try:
        tpl = fixture_templates.get(template)
    except ValueError:
        return template
    return str(getattr(tpl, "PROFILE", "") or tpl.NAME)


def fixture_pages(fixtures: Path = FIXTURES, data: Path | None = None) -> list[Page]:
    """Every live article page of every version that has a gold file."""
    kinds = templates(data or FIXTURES)
    pages: list[Page] = []
    for gold_file in sorted((fixtures / "gold").glob("*/*/*.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        version, site = gold_file.parent.parent.name, gold_file.parent.name
        html = (fixtures / "sites" / version / file_for(gold["url"])).read_bytes()
        template = kinds.get(site, site)
        pages.append(Page(version, site, template, BASE_URL + gold["url"], html, gold, profile_of(template)))
    return pages


def sample_pages(samples: Path = SAMPLES) -> list[Page]:
    """The pages of ``fixtures/samples/<profile>/``: articles and the non-articles beside them."""
    pages: list[Page] = []
    for gold_file in sorted(samples.glob("*/*.json")):
        gold = {"key": gold_file.stem, **json.loads(gold_file.read_text(encoding="utf-8"))}
        html = gold_file.with_suffix(".html").read_bytes()
        profile = str(gold.get("profile") or gold_file.parent.name)
        pages.append(Page("samples", gold_file.parent.name, profile, gold["url"], html, gold, profile))
    return pages


def _score(score: Score, page: Page, text: str | None, published: datetime | str | None, title: str | None,
           author: str | None, category: str | None, *, by_day: bool = False) -> None:
    got, want = lines_of(text), page.gold["text_lines"]
    score.pages += 1
    score.extracted += len(got)
    score.expected += len(want)
    score.matched += len(set(got) & set(want))
    score.leaked += len(leaked(got, page.gold["chrome"]))
    expected = datetime.fromisoformat(page.gold["published"])
    if by_day:
        score.dates += str(published or "")[:10] == expected.date().isoformat()
    else:
        score.dates += published == expected
    score.titles += normalise_text(title) == page.gold["title"]
    score.authors += (author or None) == page.gold["author"]
    score.categories += normalise_text(category) == (page.gold.get("category") or "")
    if set(want) - set(got):
        score.misses.append(f"{page.version}/{page.site}/{page.gold['key']}")


Result = tuple[str | None, datetime | str | None, str | None, str | None, str | None]
Extractor = Callable[[Page], Result]


def tgwatch(pick: Callable[[Page], SiteProfile | None],
            families: Callable[[Page], list[SiteProfile]] | None = None) -> Extractor:
    """tgwatch's ``extract`` with the profile ``pick`` chooses for the page (and the CMS families
    ``families`` leaves recognisable, by default all)."""
    def run(page: Page) -> Result:
        article = extract(page.html, page.url, pick(page), families=families(page) if families else None)
        if article is None:
            return None, None, None, None, None
        return article.text, article.published_at, article.title, article.author, article.category
    return run


def baseline(page: Page) -> Result:
    """Plain trafilatura, as a user would call it (the timed part)."""
    return trafilatura.extract(page.html, url=page.url), None, None, None, None


def leave_one_out(page: Page) -> list[SiteProfile]:
    """Every CMS family but the one written for the page's template."""
    return [p for p in family_profiles() if p.name != page.profile]


def extractors(profiles: dict[str, SiteProfile]) -> dict[str, Extractor]:
    return {
        "tgwatch (profiles)": tgwatch(lambda p: profiles.get(p.profile)),
        "tgwatch (generic)": tgwatch(lambda p: profiles[GENERIC]),
        "tgwatch (leave template out)": tgwatch(lambda p: None, leave_one_out),
        "trafilatura.extract (baseline)": baseline,
    }


def refusals(pages: list[Page], runs: dict[str, Extractor]) -> dict[str, int]:
    """How many non-article pages each tgwatch extractor rightly refuses (returns no article for)."""
    return {name: sum(run(p)[0] is None for p in pages) for name, run in runs.items() if run is not baseline}


def run_all(pages: list[Page], extractors: dict[str, Extractor], repeat: int) -> list[Score]:
    """Every extractor on every page, interleaved page by page so machine load hits all alike.

    A page's time is the best of ``repeat`` runs (the least disturbed by other processes).
    """
    scores = {name: Score(name) for name in extractors}
    for page in pages:
        for name, run in extractors.items():
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                result = run(page)
                best = min(best, time.perf_counter() - start)
            scores[name].seconds += best
            text, published, title, author, category = result
            if run is baseline:
                meta = trafilatura.extract_metadata(page.html, default_url=page.url)
                if meta is not None:
                    published, title, author = meta.date, meta.title, meta.author
                    category = (meta.categories or [None])[0]
            _score(scores[name], page, text, published, title, author, category, by_day=run is baseline)
    return list(scores.values())


def table(scores: list[Score], base: Score) -> str:
    head = (f"{'extractor':<34}{'prec':>7}{'recall':>8}{'F1':>7}{'chrome':>8}{'date':>7}{'title':>7}"
            f"{'author':>8}{'categ':>7}{'ms/page':>9}{'F1 x':>7}{'speed x':>9}")
    rows = [head, "-" * len(head)]
    for s in scores:
        n = s.pages or 1
        rows.append(
            f"{s.name:<34}{s.precision:>7.3f}{s.recall:>8.3f}{s.f1:>7.3f}{s.leaked:>8d}{s.dates / n:>7.2f}"
            f"{s.titles / n:>7.2f}{s.authors / n:>8.2f}{s.categories / n:>7.2f}{s.ms:>9.2f}"
            f"{s.f1 / (base.f1 or 1):>7.2f}"
            f"{base.ms / (s.ms or 1):>9.2f}"
        )
    return "\n".join(rows)


def per_template(pages: list[Page], runs: dict[str, Extractor]) -> str:
    """F1, date, title and author of each template's pages, one row per template and extractor."""
    head = f"{'template':<16}{'extractor':<30}{'pages':>6}{'F1':>7}{'chrome':>8}{'date':>7}{'title':>7}{'author':>8}"
    rows = [head, "-" * len(head)]
    for template in sorted({p.template for p in pages}):
        mine = [p for p in pages if p.template == template]
        for s in run_all(mine, runs, 1):
            n = s.pages or 1
            rows.append(f"{template:<16}{s.name:<30}{s.pages:>6d}{s.f1:>7.3f}{s.leaked:>8d}{s.dates / n:>7.2f}"
                        f"{s.titles / n:>7.2f}{s.authors / n:>8.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="directory holding sites/ and gold/")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the fastest is its time")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="directory of <profile>/<name>.html + .json")
    parser.add_argument("--misses", action="store_true", help="list pages with gold lines not extracted")
    args = parser.parse_args(argv)
    pages = fixture_pages(args.fixtures)
    if not pages:
        raise SystemExit(f"no gold files under {args.fixtures / 'gold'}: run python -m fixtures.build first")
    runs = extractors(builtin_profiles())
    scores = run_all(pages, runs, args.repeat)
    base = scores[-1]
    print(f"{len(pages)} article pages ({', '.join(sorted({p.site for p in pages}))}; "
          f"versions {', '.join(sorted({p.version for p in pages}))})")
    print(table(scores, base))
    print("prec/recall/F1 = gold paragraphs as lines (micro-averaged); chrome = chrome lines leaked "
          "(total); date/title/author/categ = share exactly right (baseline date by day); "
          "F1 x / speed x = ratio to the baseline; leave template out = no profile, the family written "
          "for the page's template not recognisable")
    print()
    print(per_template(pages, {k: v for k, v in runs.items() if "generic" in k or "leave" in k}))
    samples = sample_pages(args.samples)
    articles = [p for p in samples if p.is_article]
    if articles:
        sample_scores = run_all(articles, runs, args.repeat)
        others = [p for p in samples if not p.is_article]
        print()
        print(f"fixtures/samples: {len(articles)} article pages of {len({p.site for p in articles})} outlets' "
              f"layouts ({', '.join(sorted({p.site for p in articles}))}), {len(others)} non-article pages")
        print(table(sample_scores, sample_scores[-1]))
        refused = refusals(others, runs)
        print("non-article pages refused: " + ", ".join(f"{k} {v}/{len(others)}" for k, v in refused.items()))
        scores += sample_scores
    if args.misses:
        for s in scores:
            print(f"{s.name}: {len(s.misses)} pages missing gold lines: {', '.join(s.misses[:20])}")


if __name__ == "__main__":
    main()
