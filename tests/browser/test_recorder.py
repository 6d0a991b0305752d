"""The request recorder used by every browser test does see requests to other hosts."""

import pytest

pytestmark = pytest.mark.browser


def test_recorder_flags_requests_to_other_hosts(demo, tab):
    # Answered locally by Playwright: nothing leaves the machine.
    tab.context.route("https://cdn.example.net/**", lambda route: route.fulfill(status=204))
    tab.goto("/villebrie/")
    tab.page.set_content('<img src="https://cdn.example.net/logo.png" alt="">')
    tab.page.wait_for_load_state("load")
    assert tab.foreign_requests() == ["https://cdn.example.net/logo.png"]
    with pytest.raises(AssertionError, match=r"cdn\.example\.net"):
        tab.assert_no_third_party_requests()
    tab.requests.clear()  # the teardown check would fail the test otherwise
