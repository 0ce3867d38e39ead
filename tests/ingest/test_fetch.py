"""Fetching pages: the SSRF guard, redirects, size cap, robots.txt and HTTP errors, on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.ingest.fetch import Fetcher, is_forbidden
from tests.conftest import make_settings
from tests.web_server import Site, serve_site


@pytest.fixture
def fetcher(tmp_path: Path) -> Iterator[Fetcher]:
    """Private addresses allowed: the test site listens on 127.0.0.1."""
    settings = make_settings(tmp_path, fetch_allow_private=True, fetch_max_bytes=32_000,
                             fetch_max_redirects=3)
    with Fetcher(settings.fetch) as running:
        yield running


def fetch_error(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(SourceError) as caught:
        fetcher.fetch(url)
    return str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/page", "http://10.1.2.3/page", "http://169.254.169.254/latest/meta-data/",
     "http://192.168.1.1/", "http://[::1]:8080/", "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/",
     "http://localhost/"],
)
def test_private_addresses_are_refused_before_connecting(tmp_path: Path, url: str) -> None:
    with Fetcher(make_settings(tmp_path).fetch) as fetcher:
        message = fetch_error(fetcher, url)
    assert f"{url}: " in message
    assert "is a private address" in message or "resolves to a private address (127.0.0.1)" in message
    assert message.count("127.0.0.1") <= 1 + url.count("127.0.0.1")  # said once, not "127.0.0.1 … (127.0.0.1)"
    assert message.endswith("set FETCH_ALLOW_PRIVATE=true, or name its network in FETCH_ALLOW_NETWORKS, to "
                            "allow it")


def test_a_private_server_is_refused_without_the_setting_and_gets_no_request(tmp_path: Path) -> None:
    with serve_site() as private_site, Fetcher(make_settings(tmp_path).fetch) as fetcher:
        assert "127.0.0.1 is a private address;" in fetch_error(fetcher, private_site.base + "/world/mekong-rice")
    assert private_site.requests == []


def test_public_addresses_are_not_forbidden() -> None:
    assert not is_forbidden("93.184.215.14")
    assert not is_forbidden("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert is_forbidden("100.64.0.1")  # carrier-grade NAT: not global either
    assert is_forbidden("fe80::1%eth0")


def test_only_http_urls_are_fetched(fetcher: Fetcher) -> None:
    assert "is not an http(s) URL" in fetch_error(fetcher, "file:///etc/passwd")


def test_a_page_is_fetched_with_our_user_agent_after_robots_txt(fetcher: Fetcher, site: Site) -> None:
    site.requests.clear()
    page = fetcher.fetch(site.base + "/world/mekong-rice")
    assert page.url == site.base + "/world/mekong-rice"
    assert page.content_type == "text/html"
    assert b"Mekong delta farmers" in page.content
    assert site.requests == ["/robots.txt", "/world/mekong-rice"]


def test_redirects_are_followed_and_the_final_url_kept(fetcher: Fetcher, site: Site) -> None:
    page = fetcher.fetch(site.base + "/latest")
    assert page.url == site.base + "/world/mekong-rice"


def test_a_redirect_loop_is_a_clear_error(fetcher: Fetcher, site: Site) -> None:
    message = fetch_error(fetcher, site.base + "/loop-a")
    assert message == (f"{site.base}/loop-a: redirects in a loop ({site.base}/loop-b → {site.base}/loop-a); "
                       "open it in a browser to see where it should go")


def test_too_many_redirects_is_a_clear_error(fetcher: Fetcher, site: Site) -> None:
    message = fetch_error(fetcher, site.base + "/hop/1")
    assert message == f"{site.base}/hop/1: redirects more than 3 times; raise FETCH_MAX_REDIRECTS to follow more"


def test_every_redirect_hop_is_checked_again(fetcher: Fetcher, site: Site) -> None:
    assert fetch_error(fetcher, site.base + "/to-file") == (
        f"{site.base}/to-file: is not an http(s) URL (file:/etc/passwd); give a web address or a file")


def test_a_slow_server_is_a_clear_error(tmp_path: Path, site: Site) -> None:
    settings = make_settings(tmp_path, fetch_allow_private=True, fetch_read_timeout=0.2)
    with Fetcher(settings.fetch) as fetcher:
        message = fetch_error(fetcher, site.base + "/slow")
    assert message == (f"{site.base}/slow: did not answer in time (ReadTimeout at {site.base}/slow); "
                       "try again later or raise FETCH_READ_TIMEOUT")


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers"])  # the body, or even the headers
def test_a_server_that_trickles_is_cut_off_at_the_total_timeout(tmp_path: Path, site: Site, path: str) -> None:
    # a byte every 0.05 s: no read waits long enough to time out, yet the page would take ~20 s
    settings = make_settings(tmp_path, fetch_allow_private=True, fetch_read_timeout=5, fetch_total_timeout=1)
    with Fetcher(settings.fetch) as fetcher:
        message = fetch_error(fetcher, site.base + path + "?api_key=s3cr3t-feed-key")
    assert message == (f"{site.base}{path}?api_key=***: took longer than 1 s to fetch (FETCH_TOTAL_TIMEOUT): "
                       "the server sends too slowly. Try again later, or raise FETCH_TOTAL_TIMEOUT for it")


def test_errors_redact_the_secrets_in_addresses(fetcher: Fetcher, site: Site) -> None:
    token = "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
    message = fetch_error(fetcher, site.base.replace("http://", "http://editor:hunter2@") + f"/gone?token={token}")
    assert message == (f"http://***@{site.base[7:]}/gone?token=***: returned HTTP 404 Not Found; check the address")
    assert "hunter2" not in message and token not in message


@pytest.mark.parametrize("path", ["/big", "/big-stream"])  # declared length, and a body with none
def test_an_oversize_body_is_refused(fetcher: Fetcher, site: Site, path: str) -> None:
    message = fetch_error(fetcher, site.base + path)
    assert message == f"{site.base}{path}: is larger than 32,000 bytes; raise FETCH_MAX_BYTES to allow it"


def test_robots_txt_disallow_is_respected(fetcher: Fetcher, site: Site) -> None:
    site.requests.clear()
    message = fetch_error(fetcher, site.base + "/private/story")
    assert message == (f"{site.base}/private/story: is disallowed by {site.base}/robots.txt for our user agent; "
                       "the site asks not to be fetched, so it is not")
    assert "/private/story" not in site.requests


def test_http_errors_are_clear(fetcher: Fetcher, site: Site) -> None:
    assert fetch_error(fetcher, site.base + "/gone") == (
        f"{site.base}/gone: returned HTTP 404 Not Found; check the address")


def test_non_html_is_refused(fetcher: Fetcher, site: Site) -> None:
    assert fetch_error(fetcher, site.base + "/report.pdf") == (
        f"{site.base}/report.pdf: is not an HTML page (application/pdf); download it and ingest the file instead")


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    with Fetcher(make_settings(tmp_path, fetch_allow_private=True).fetch) as fetcher:
        message = fetch_error(fetcher, f"http://127.0.0.1:{free_port()}/story")
    assert "cannot be fetched (ConnectError" in message


def test_a_network_named_in_fetch_allow_networks_is_fetched_and_others_are_still_refused(tmp_path: Path) -> None:
    from assistant.config import load_settings
    from assistant.errors import ConfigError

    settings = make_settings(tmp_path, fetch_allow_networks="10.9.0.0/16, 127.0.0.1")
    with serve_site() as private_site, Fetcher(settings.fetch) as fetcher:
        assert b"Mekong delta farmers" in fetcher.fetch(private_site.base + "/world/mekong-rice").content
        assert "192.168.1.1 is a private address;" in fetch_error(fetcher, "http://192.168.1.1/")
    with pytest.raises(ConfigError, match=r"FETCH_ALLOW_NETWORKS: .*'10\.0\.0\.300' is not an address or network"):
        load_settings(fetch_allow_networks="10.0.0.300")
