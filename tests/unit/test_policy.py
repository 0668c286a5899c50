"""The policy table says what the SOP says: the JB decides, an agency changes only its own records."""

from __future__ import annotations

from domain.policy import POLICY, WHO_MAY, Action, Requester, Role, may, role_of
from domain.records import Actor
from tests.support import seed
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD

JB_DECISIONS = {
    Action.ACKNOWLEDGE,
    Action.APPROVE,
    Action.EXTEND,
    Action.SET_POC,
    Action.SUBSCRIBE_JB,
    Action.RETURN_TO_MONITORING,
    Action.END_EXTENSION,
    Action.RESEND,
}
AGENCY_CHANGES = {Action.WITHDRAW, Action.RESOLVE, Action.ADD_OFFICER, Action.SUBSCRIBE_AGENCY, Action.EDIT_OFFICER}


def test_only_jb_staff_take_the_jbs_decisions() -> None:
    for action in JB_DECISIONS | {Action.SEE_AUDIT}:
        assert [role for role in Role if may(action, role)] == [Role.JB_STAFF], action


def test_an_agencys_records_change_only_by_its_poc_or_jb_staff() -> None:
    for action in AGENCY_CHANGES:
        assert {role for role in Role if may(action, role)} == {Role.JB_STAFF, Role.AGENCY_POC}, action


def test_court_operations_in_the_jb_channel_read_but_change_nothing() -> None:
    assert may(Action.SEE_ALL_STATUS, Role.CHANNEL_MEMBER)
    assert not any(may(action, Role.CHANNEL_MEMBER) for action in JB_DECISIONS | AGENCY_CHANGES)
    assert not any(may(action, role) for action in Action for role in (Role.OTHER_POC, Role.UNKNOWN))


def test_the_digest_is_read_by_the_jb_and_by_an_agencys_own_poc() -> None:
    assert {role for role in Role if may(Action.SEE_DIGEST, role)} == {
        Role.JB_STAFF,
        Role.AGENCY_POC,
        Role.CHANNEL_MEMBER,
    }
    assert may(Action.SEE_DIGEST, Role.CHANNEL_MEMBER) == may(Action.SEE_AGENCY_STATUS, Role.CHANNEL_MEMBER)


def test_every_action_says_who_may_do_it() -> None:
    assert set(WHO_MAY) == set(Action) == set(POLICY)
    assert all(text.startswith(("Only", "You can")) for text in WHO_MAY.values())


def test_roles_are_relative_to_the_agency() -> None:
    package = seed.package("9000", poc=POC_AAD)
    poc = Requester(Actor(aad_id=POC_AAD.upper(), name="Pat Poc"), is_staff=False)
    assert role_of(poc, package) is Role.AGENCY_POC  # object ids compare case-insensitively
    assert role_of(poc, seed.package("9100", poc=OTHER_AAD), poc_elsewhere=True) is Role.OTHER_POC
    staff = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
    assert role_of(staff, package) is Role.JB_STAFF
    reader = Requester(Actor(aad_id=OTHER_AAD, name="Court Ops"), is_staff=False, in_jb_channel=True)
    assert role_of(reader, package) is Role.CHANNEL_MEMBER
    assert role_of(Requester(Actor(aad_id="", name=""), is_staff=False), package) is Role.UNKNOWN


def test_downloads_follow_who_may_see_the_records() -> None:
    # a package's spreadsheet: whoever may see the package (its PoC, JB staff); everything: JB staff only,
    # not the JB channel's readers (the export holds the audit log, which only JB staff see)
    assert POLICY[Action.EXPORT_PACKAGE] == {Role.JB_STAFF, Role.AGENCY_POC}
    # the JB channel reads the package card posted there (paging it), but downloads nothing
    assert POLICY[Action.SEE_PACKAGE] == POLICY[Action.EXPORT_PACKAGE] | {Role.CHANNEL_MEMBER}
    assert [role for role in Role if may(Action.EXPORT_ALL, role)] == [Role.JB_STAFF]
    assert POLICY[Action.EXPORT_ALL] == POLICY[Action.SEE_AUDIT]
