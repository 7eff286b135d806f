"""What a plug-in author's own test looks like: rlscale's conformance kit on the agent."""

from rlscale.testing import check_agent


def test_td3_passes_the_conformance_kit():
    check_agent("td3", {"actor_hidden_width": 16, "actor_hidden_depth": 1}).assert_passed()
