"""The local runtime parses a state machine's definition once per process (`_parsed_once` in
enrollment/local/runtime.py): executions still get their own evaluation components, and a
definition that does not parse is refused as moto refuses it."""

from __future__ import annotations

import json

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

from enrollment.local.runtime import _parsed_once, _syntax_tree

DEFINITION = json.dumps(
    {
        "StartAt": "Hello",
        "States": {
            "Hello": {"Type": "Pass", "Result": {"n": 1}, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
)


def test_one_syntax_tree_new_components_for_each_parse() -> None:
    _syntax_tree.cache_clear()
    with _parsed_once():
        first, tree = AmazonStateLanguageParser.parse(DEFINITION)
        again, same_tree = AmazonStateLanguageParser.parse(DEFINITION)
    assert same_tree is tree and _syntax_tree.cache_info().hits == 1
    assert again is not first and type(again) is type(first)
    # the patch is gone afterwards: moto parses afresh
    _, fresh = AmazonStateLanguageParser.parse(DEFINITION)
    assert fresh is not tree


def test_a_definition_that_does_not_parse_is_refused_every_time() -> None:
    broken = DEFINITION.replace('"Type": "Pass"', '"Type": "Nonsense"')
    with _parsed_once():
        for _ in range(2):
            with pytest.raises(ASLParserException):
                AmazonStateLanguageParser.parse(broken)
