"""Sources: articles from the network and from PDFs — web pages by URL, RSS/Atom feeds
kept in sync, and PDF files.

`fetch` (polite HTTP) and `robots` (robots.txt) reach the network, only for a URL or feed
the user asked for; `web` and `pdf` turn what was fetched or read into `Article`s; `feeds`
parses feeds; `registry` remembers feeds and pages between runs; `sync` brings a library
up to date with them.
"""
