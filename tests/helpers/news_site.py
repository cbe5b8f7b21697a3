"""Test helper: news pages, RSS 2.0 and Atom documents for the local web server."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    date: str = "2026-05-04"
    author: str = "Giulia Neri"
    lang: str = "en"

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)


def page(story: Story, *, canonical: str = "", site: str = "Daily Ledger") -> bytes:
    """An article page as a news site would serve it: navigation, metadata, footer."""
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html lang="{story.lang}"><head><meta charset="utf-8">
<title>{escape(story.title)} | {site}</title>
<meta property="og:title" content="{escape(story.title)}">
<meta property="og:site_name" content="{site}">
<meta name="author" content="{escape(story.author)}">
<meta property="article:published_time" content="{story.date}T08:00:00Z">
{link}
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{escape(story.title)}</h1>
{paragraphs}
</article>
<footer>© {site}. All rights reserved.</footer>
</body></html>""".encode("utf-8")


def rss(items: list[tuple[Story, str]], *, title: str = "Daily Ledger",
        summary: bool = True) -> bytes:
    """An RSS 2.0 feed of (story, link) items."""
    entries = "\n".join(f"""<item>
  <title>{escape(s.title)}</title><link>{escape(link)}</link>
  <guid isPermaLink="false">{s.slug}</guid>
  <pubDate>{_rfc822(s.date)}</pubDate>
  {f"<description>{escape(s.paragraphs[0])}</description>" if summary else ""}
</item>""" for s, link in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{escape(title)}</title><link>http://example/</link>
<description>News</description>
{entries}
</channel></rss>""".encode("utf-8")


def atom(items: list[tuple[Story, str]], *, title: str = "Ledger Atom") -> bytes:
    """An Atom 1.0 feed of (story, link) items, with full content."""
    entries = "\n".join(f"""<entry>
  <title>{escape(s.title)}</title><link href="{escape(link)}"/>
  <id>urn:ledger:{s.slug}</id><updated>{s.date}T08:00:00Z</updated>
  <author><name>{escape(s.author)}</name></author>
  <content type="html">{escape("".join(f"<p>{p}</p>" for p in s.paragraphs))}</content>
</entry>""" for s, link in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title>
<id>urn:ledger</id><updated>2026-05-04T08:00:00Z</updated>
{entries}
</feed>""".encode("utf-8")


def _rfc822(day: str) -> str:
    from email.utils import format_datetime
    from datetime import datetime, timezone
    return format_datetime(datetime.fromisoformat(day).replace(hour=8, tzinfo=timezone.utc),
                           usegmt=True)


STORIES = (
    Story("port", "Harbour authority approves new container terminal", (
        "The harbour authority approved a new container terminal on Monday after two years "
        "of negotiations with shipping companies and local residents.",
        "The terminal will double the port's capacity and create about four hundred jobs, "
        "according to the authority's president, who presented the plan to the press.",
        "Environmental groups said they would appeal the decision, citing the impact on the "
        "nearby wetlands and the increase in lorry traffic through the old town.")),
    Story("wine", "Vineyards expect an early harvest after a warm spring", (
        "Winemakers in the hills expect the grape harvest to begin two weeks earlier than "
        "usual this year, after the warmest spring recorded in the region.",
        "Cooperatives have hired seasonal workers in advance, and several estates said the "
        "quality of the grapes looked excellent despite a short dry spell in April.",
        "Agronomists warned that hail in the summer could still reduce the yield.")),
    Story("chess", "Teenager wins the national chess championship", (
        "A sixteen-year-old student from the coast won the national chess championship on "
        "Sunday, beating three grandmasters in the final rounds of the tournament.",
        "Her coach said she trained four hours a day while preparing for her school exams, "
        "and that she now hopes to qualify for the European championship.",
        "The federation announced that next year's championship will be held in the capital.")),
)
