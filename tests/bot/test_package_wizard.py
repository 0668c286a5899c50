"""The Information Package wizard over HTTP (real activity JSON, invoke responses carry the cards)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cards.package import TRACS_SOP
from domain.records import OfficerState
from tests.bot.package_flow import AGENCY, Chat, error_under, inputs, officer, text_of
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD
from tests.support.fake_connector import FakeConnector
from tests.support.seed import seed_agency
from vocabulary.contact import JB_EMAIL


async def jb_chat(client: Any, connector: FakeConnector) -> Chat:
    """The JB staff member's 1:1 chat, made known to the bot by one message."""
    chat = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await chat.type("/help")
    return chat


async def test_a_poc_walks_the_whole_wizard_and_the_jb_gets_the_package(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    jb = await jb_chat(client, connector)
    poc = Chat(client, connector)
    first = await poc.type("/new-package")
    assert "Step 1 of 5" in text_of(first)
    await poc.press("Next", {"records_system": "valcour"})
    agency_step = await poc.press("Next", {"valcour_installed": "true", "officers_trained": "true"})
    assert inputs(agency_step)["poc_name"]["value"] == "Pat Poc", "PoC name comes prefilled from the Teams user"
    await poc.press("Next", AGENCY)
    second = await poc.press("Save and add another officer", officer())
    assert "A1234" in text_of(second) and "Officer 2" in text_of(second)
    review = await poc.press("Next: review", officer("b2345", first="Dana", last="Deputy", username="ddeputy"))
    assert "Step 5 of 5" in text_of(review) and "B2345" in text_of(review)
    assert [b["title"] for b in review["actions"]] == ["Submit", "Back", "Cancel"]

    confirmation = await poc.press("Submit")

    assert "Information Package sent" in text_of(confirmation) and "Approval Date" in text_of(confirmation)
    db = poc.app.db
    package = db.packages.get("9000")
    assert package is not None and package.poc.aad_id == POC_AAD and package.agency.agency_name == AGENCY["agency_name"]
    officers = db.officers.of_agency("9000")
    assert [(o.officer_number, o.state) for o in officers] == [
        ("A1234", OfficerState.MONITORING),
        ("B2345", OfficerState.MONITORING),
    ]
    assert [e.action for e in db.audit.of_target("package:9000")] == ["package.submit"]
    assert [e.action for e in db.audit.of_target("officer:9000:B2345")] == ["officer.add"]
    notices = db.outbox.of_subject("package:9000")
    jb_conversation = db.conversations.personal_chat_of(JB_AAD)
    assert jb_conversation is not None and [n.conversation_id for n in notices] == [jb_conversation.conversation_id]
    sent = await connector.wait_for(
        lambda sent: any(s.conversation_id == jb_conversation.conversation_id and "Acknowledge" in s.text for s in sent)
    )
    jb_card = next(s for s in sent if "Acknowledge" in s.text)
    assert jb_card.conversation_id == jb_conversation.conversation_id and "Acknowledge" in jb_card.text
    assert jb.user_aad == JB_AAD
    again = await poc.type("/new-package")
    assert "Step 1 of 5" in text_of(again), "a submitted wizard is finished: the next one starts fresh"


async def test_tracs_spillman_ends_the_wizard_with_the_referral(bot_client: Any, connector: FakeConnector) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.type("new-package")
    referral = await poc.press("Next", {"records_system": "tracs_spillman"})
    assert TRACS_SOP in text_of(referral) and JB_EMAIL in text_of(referral)
    assert not referral.get("actions")
    assert poc.app.db.packages.all() == []
    fresh = await poc.type("/new-package")
    assert "Step 1 of 5" in text_of(fresh)


async def test_a_wrong_value_comes_back_beside_its_field_with_the_other_answers_kept(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.type("/new-package")
    await poc.press("Next", {"records_system": "valcour"})
    refused = await poc.press("Next", {"valcour_installed": "true", "officers_trained": "false"})
    assert error_under(refused, "officers_trained") and not error_under(refused, "valcour_installed")
    await poc.press("Next", {"valcour_installed": "true", "officers_trained": "true"})
    wrong = AGENCY | {"judiciary_code": "900", "letterhead_phone": "12"}
    card = await poc.press("Next", wrong)
    assert "Step 3 of 5" in text_of(card)
    assert error_under(card, "judiciary_code") == "Judiciary Code must be exactly 4 digits, like 9000 or 0123."
    assert "US number" in (error_under(card, "letterhead_phone") or "")
    assert error_under(card, "agency_name") is None
    fields = inputs(card)
    assert fields["judiciary_code"]["value"] == "900" and fields["agency_name"]["value"] == AGENCY["agency_name"]
    assert fields["judiciary_code"]["regex"] == "^[0-9]{4}$" and fields["judiciary_code"]["isRequired"]
    assert all(field.get("label") for field in fields.values())

    officers_step = await poc.press("Next", AGENCY)
    assert "Step 4 of 5" in text_of(officers_step)
    past = (date.today() - timedelta(days=3)).isoformat()
    card = await poc.press("Next: review", officer(start=past))
    assert "today" in (error_under(card, "start_date") or "")
    assert inputs(card)["officer_number"]["value"] == "A1234"
    assert "min" in inputs(card)["start_date"]
    review = await poc.press("Next: review", officer())
    assert "Step 5 of 5" in text_of(review)


async def test_cancel_at_any_step_sends_nothing(bot_client: Any, connector: FakeConnector) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.reach_officers()
    cancelled = await poc.press("Cancel")
    assert "Cancelled" in text_of(cancelled) and "Nothing was sent" in text_of(cancelled)
    assert poc.app.db.packages.all() == []
    await connector.wait_for(lambda sent: any(s.method == "PUT" and "Cancelled" in s.text for s in sent))
    fresh = await poc.type("/new-package")
    assert "Step 1 of 5" in text_of(fresh)
    stale = await poc.press("Next", {"records_system": "valcour"}, card=cancelled | {"actions": fresh["actions"]})
    assert "Step 2 of 5" in text_of(stale)


async def test_an_unfinished_wizard_resumes_after_a_restart(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    settings = settings_for()
    first = await bot_client(settings)
    poc = Chat(first, connector)
    await poc.type("/new-package")
    await poc.press("Next", {"records_system": "valcour"})
    agency_step = await poc.press("Next", {"valcour_installed": "true", "officers_trained": "true"})
    await first.close()

    second = await bot_client(settings)
    poc.client = second
    officers_step = await poc.press("Next", AGENCY, card=agency_step)
    assert "Step 4 of 5" in text_of(officers_step), "a button on the old card continues the wizard"

    offer = await poc.type("/new-package")
    assert [b["title"] for b in offer["actions"]] == ["Resume", "Start over"]
    resumed = await poc.press("Resume")
    assert "Step 4 of 5" in text_of(resumed)
    await poc.type("/new-package")
    restarted = await poc.press("Start over")
    assert "Step 1 of 5" in text_of(restarted)
    old = await poc.press("Next: review", officer(), card=officers_step)
    assert "out of date" in text_of(old)


async def test_a_judiciary_code_with_a_package_offers_to_add_officers_to_it(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await jb_chat(client, connector)
    poc = Chat(client, connector)
    await poc.submit_package()
    offered = await poc.reach_officers(AGENCY | {"agency_name": "Williston PD (typed again)"})
    # an explicit choice, with what was typed kept: never a silent switch to adding officers
    assert "already has an Information Package" in (error_under(offered, "judiciary_code") or "")
    assert "Step 3 of 5" in text_of(offered) and inputs(offered)["agency_name"]["value"] == "Williston PD (typed again)"
    assert [a["title"] for a in offered["actions"]][:2] == [
        "Change the code",
        "Add officers to Williston Police Department",
    ]
    card = await poc.press("Add officers to Williston Police Department", AGENCY)
    assert "You are adding officers" in text_of(card) and "Step 4 of 5" in text_of(card)
    refused = await poc.press("Next: review", officer())
    assert "already in this agency's package" in (error_under(refused, "officer_number") or "")
    review = await poc.press("Next: review", officer("C3456", first="Lee", username="lee"))
    assert "officers to add" in text_of(review) and "already lists 1 officer" in text_of(review)
    confirmation = await poc.press("Submit")
    assert "1 officer added" in text_of(confirmation)
    assert [o.officer_number for o in poc.app.db.officers.of_agency("9000")] == ["A1234", "C3456"]
    await connector.wait_for(lambda sent: any("Officers added" in s.text and "C3456" in s.text for s in sent))


async def test_someone_else_gets_told_who_the_poc_is(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await Chat(client, connector).submit_package()
    other = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    card = await other.reach_officers()
    message = error_under(card, "judiciary_code") or ""
    assert "Step 3 of 5" in text_of(card)
    assert "Pat Poc" in message and "/set-poc" in message


async def test_the_same_officer_number_twice_in_one_package_is_refused(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.reach_officers()
    await poc.press("Save and add another officer", officer())
    card = await poc.press("Next: review", officer("a1234", first="Dup"))
    assert "already listed" in (error_under(card, "officer_number") or "")
    assert inputs(card)["first_name"]["value"] == "Dup"


async def test_an_officer_of_another_agency_is_allowed_with_a_note(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    poc = Chat(client, connector)
    await seed_agency(poc.app, judiciary_code="0123", officers=("A1234",))
    poc.user_aad = OTHER_AAD
    await poc.reach_officers()
    review = await poc.press("Next: review", officer())
    assert "also in the package of Williston Police Department (0123)" in text_of(review)
    await poc.press("Submit")
    assert {o.judiciary_code for o in poc.app.db.officers.by_number("A1234")} == {"0123", "9000"}


async def test_officers_can_be_edited_and_removed(bot_client: Any, connector: FakeConnector) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.reach_officers()
    await poc.press("Save and add another officer", officer())
    await poc.press("Save and add another officer", officer("B2345"))
    card = await poc.press("Remove", index=0)
    assert "A1234" not in text_of(card) and "B2345" in text_of(card)
    card = await poc.press("Edit")
    assert inputs(card)["officer_number"]["value"] == "B2345"
    review = await poc.press("Next: review", officer("B2345", first="Robin"))
    assert "Robin" in text_of(review)
    card = await poc.press("Edit", index=3)  # records system, pre-conditions, agency, officers
    assert "Robin" in text_of(card)


async def test_acknowledge_by_jb_staff_updates_every_copy_and_tells_the_poc(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    jb = await jb_chat(client, connector)
    poc = Chat(client, connector)
    await poc.submit_package()
    sent = await connector.wait_for(
        lambda sent: any(s.conversation_id == "a:personal-22222222" and "Acknowledge" in s.text for s in sent)
    )
    delivered = next(s for s in sent if s.conversation_id == "a:personal-22222222" and "Acknowledge" in s.text)
    card = delivered.cards[0]

    refused = await poc.press("Acknowledge", card=card, reply_to_id=delivered.activity_id)
    assert "Only JB e-ticket staff may acknowledge" in text_of(refused)
    # a refusal carries none of the record's data: no package, no button
    assert "Williston" not in text_of(refused) and not refused.get("actions")
    assert poc.app.db.packages.get("9000").acknowledged is None  # type: ignore[union-attr]

    done = await jb.press("Acknowledge", card=card, reply_to_id=delivered.activity_id)
    assert "Acknowledged by Jo Bureau" in text_of(done) and not done.get("actions")
    assert poc.app.db.packages.get("9000").acknowledged is not None  # type: ignore[union-attr]
    assert [e.action for e in poc.app.db.audit.of_target("package:9000")] == [
        "package.submit",
        "package.acknowledge.refused",
        "package.acknowledge",
    ]
    await connector.wait_for(
        lambda sent: any(s.method == "PUT" and s.activity_id == delivered.activity_id for s in sent)
    )
    notice = await connector.wait_for(lambda sent: any("may begin issuing e-tickets" in s.text for s in sent))
    to_poc = next(s for s in notice if "may begin issuing e-tickets" in s.text)
    assert (
        to_poc.conversation_id == "a:personal-11111111"
        and "at least 3 of their e-tickets have been accepted" in to_poc.text
    )

    again = await jb.press("Acknowledge", card=card, reply_to_id=delivered.activity_id)
    assert "Already acknowledged by Jo Bureau" in text_of(again)
    assert [e.action for e in poc.app.db.audit.of_target("package:9000")][-2:] == [
        "package.acknowledge",
        "package.acknowledge.again",
    ]
    assert poc.app.db.packages.get("9000").acknowledged.actor.aad_id == JB_AAD  # type: ignore[union-attr]


async def test_package_shows_chart_1_to_its_poc_and_jb_staff_only(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    poc = Chat(client, connector)
    await poc.submit_package()
    own = await poc.type("/package")
    assert (
        "E-Ticket Information Package" in text_of(own)
        and "Approval Date" in text_of(own)
        and "In monitoring" in text_of(own)
    )
    other = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    refused = await other.type("/package 9000")
    assert "Not your agency's package" in text_of(refused) and "cofficer" not in text_of(refused)
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    assert "cofficer" in text_of(await jb.type("/package 9000"))
    assert "exactly 4 digits" in text_of(await jb.type("/package 90"))


async def test_subscribe_is_for_the_poc_or_jb_staff_in_a_channel(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    poc = Chat(client, connector)
    await poc.submit_package()
    explained = await poc.type("/subscribe 9000")
    assert "channel" in text_of(explained)
    other = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    refused = await other.type("/subscribe 9000", mention=True, kind="channel")
    assert "Only the Point-of-Contact" in text_of(refused)
    assert poc.app.db.subscriptions.conversation_for("9000") is None
    done = await poc.type("/subscribe 9000", mention=True, kind="channel")
    assert "Alerts routed here" in text_of(done)
    assert poc.app.db.subscriptions.conversation_for("9000") == "19:agency-channel@thread.tacv2"
    assert "Only JB e-ticket staff" in text_of(await poc.type("/subscribe jb", mention=True, kind="channel"))
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await jb.type("/subscribe JB", mention=True, kind="channel", channel="19:jb-channel@thread.tacv2")
    assert poc.app.db.subscriptions.conversation_for("jb") == "19:jb-channel@thread.tacv2"
    assert [e.action for e in poc.app.db.audit.of_target("subscription:jb")] == ["subscribe"]
    assert [e.action for e in poc.app.db.audit.of_target("subscription:9000")] == ["subscribe"]


async def test_wizard_commands_in_a_channel_point_to_the_one_to_one_chat(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc = Chat(await bot_client(), connector)
    for command in ("/new-package", "/add-officer"):
        card = await poc.type(command, mention=True, kind="channel")
        assert "1:1 chat" in text_of(card)
    assert "1:1 chat" in text_of(await poc.type("/new-package", kind="groupChat"))


async def test_add_officer_asks_a_poc_of_several_agencies_which(bot_client: Any, connector: FakeConnector) -> None:
    poc = Chat(await bot_client(), connector)
    await seed_agency(poc.app, judiciary_code="0123", officers=())
    await seed_agency(poc.app, judiciary_code="0456", officers=())
    choose = await poc.type("/add-officer")
    assert "Step 1 of 3" in text_of(choose) and inputs(choose)["judiciary_code"]["isRequired"]
    card = await poc.press("Next", {"judiciary_code": "0456"})
    assert "(0456)" in text_of(card)
    review = await poc.press("Next: review", officer())
    assert inputs(review)["officers_trained"]["isRequired"]  # SOP 5: the new officers are trained
    unattested = await poc.press("Submit", {"officers_trained": "false"})
    assert "trained" in (error_under(unattested, "officers_trained") or "")
    assert poc.app.db.officers.of_agency("0456") == []
    await poc.press("Submit", {"officers_trained": "true"})
    assert [o.officer_number for o in poc.app.db.officers.of_agency("0456")] == ["A1234"]
    nobody = Chat(poc.client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    assert "not the Point-of-Contact" in text_of(await nobody.type("/add-officer"))


ROSTER = [
    {"id": f"29:{POC_AAD}", "name": "Pat Poc", "aadObjectId": POC_AAD, "email": "pat.poc@williston.example"},
    {"id": f"29:{OTHER_AAD}", "name": "Olive Other", "aadObjectId": OTHER_AAD, "email": "olive@williston.example"},
    {"id": f"29:{JB_AAD}", "name": "Jo Bureau", "aadObjectId": JB_AAD, "email": "jo.bureau@vermont.gov"},
]


async def test_set_poc_hands_the_role_over_for_jb_staff_only(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    connector.members = ROSTER
    poc = Chat(client, connector)
    await poc.submit_package()
    other = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    await other.type("/help")
    assert "Only JB e-ticket staff" in text_of(await poc.type("/set-poc 9000 <at>Olive Other</at>"))
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    unknown = await jb.type("/set-poc 9000 nobody@example.vt.gov")
    assert "Nobody found" in text_of(unknown) and poc.app.db.packages.get("9000").poc.aad_id == POC_AAD  # type: ignore[union-attr]
    mention = {
        "type": "mention",
        "text": "<at>Olive Other</at>",
        "mentioned": {"id": f"29:{OTHER_AAD}", "name": "Olive Other"},
    }
    done = await jb.type("/set-poc 9000 <at>Olive Other</at>", entities=[mention])
    assert "Point-of-Contact changed" in text_of(done) and "told them" in text_of(done)
    package = poc.app.db.packages.get("9000")
    assert package is not None and package.poc.aad_id == OTHER_AAD and package.agency.poc_name == "Olive Other"
    # a mention keeps the e-mail SOP 6.1 asks for: Teams' roster gives it
    assert package.agency.poc_email == "olive@williston.example"
    await connector.wait_for(
        lambda sent: any(
            s.conversation_id == "a:personal-33333333" and "now the Point-of-Contact" in s.text for s in sent
        )
    )
    entries = poc.app.db.audit.of_target("package:9000")
    assert [e.action for e in entries] == ["package.submit", "package.set_poc"]
    assert entries[1].before is not None and entries[1].after is not None
    assert (entries[1].before["poc_email"], entries[1].after["poc_email"]) == (
        "pat.poc@williston.example",
        "olive@williston.example",
    )
    by_email = await jb.type("/set-poc 9000 PAT.POC@williston.example")
    assert "Point-of-Contact changed" in text_of(by_email)
    assert poc.app.db.packages.get("9000").poc.aad_id == POC_AAD  # type: ignore[union-attr]


NO_EMAIL_ROSTER = [
    {"id": f"29:{OTHER_AAD}", "name": "Olive Other", "aadObjectId": OTHER_AAD},
    {"id": f"29:{JB_AAD}", "name": "Jo Bureau", "aadObjectId": JB_AAD},
]
OLIVE = {
    "type": "mention",
    "text": "<at>Olive Other</at>",
    "mentioned": {"id": f"29:{OTHER_AAD}", "name": "Olive Other"},
}


async def test_set_poc_asks_for_the_e_mail_teams_did_not_give_and_never_blanks_it(
    bot_client: Any, connector: FakeConnector
) -> None:
    """SOP 6.1 needs the PoC's e-mail: with none on the roster, JB staff type it before the role changes hands."""
    client = await bot_client()
    connector.members = NO_EMAIL_ROSTER
    poc = Chat(client, connector)
    await poc.submit_package()
    db = poc.app.db
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")

    def unchanged() -> bool:
        package = db.packages.get("9000")
        assert package is not None
        return (package.poc.aad_id, package.agency.poc_email) == (POC_AAD, "pat.poc@williston.example") and [
            e.action for e in db.audit.of_target("package:9000")
        ] == ["package.submit"]

    form = await jb.type("/set-poc 9000 <at>Olive Other</at>", entities=[OLIVE])
    assert "E-mail of the new Point-of-Contact" in text_of(form) and "Olive Other" in text_of(form)
    field = inputs(form)["poc_email"]
    assert field["label"] and field["style"] == "email" and field["isRequired"] and "value" not in field
    assert unchanged(), "asking for the e-mail changes nothing"

    bad = await jb.press("Submit", {"poc_email": "olive at williston"})
    assert (
        error_under(bad, "poc_email") == "Point-of-Contact e-mail must be an e-mail address, like name@example.vt.gov."
    )
    assert inputs(bad)["poc_email"]["value"] == "olive at williston", "what was typed is kept"
    empty = await jb.press("Submit", {"poc_email": "  "})
    assert "required" in (error_under(empty, "poc_email") or "")
    assert unchanged()

    outsider = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    refused = await outsider.press("Submit", {"poc_email": "olive@williston.example"}, card=form)
    assert "Only JB e-ticket staff" in text_of(refused) and "Olive" not in text_of(refused)
    forged = await jb.invoke("package.set_poc_submit", {"judiciary_code": "9000", "aad_id": "not-a-member"})
    assert "Nobody found" in text_of(forged)
    assert unchanged()

    done = await jb.press("Submit", {"poc_email": " olive@williston.example "}, card=bad)
    assert "Olive Other is now the Point-of-Contact of Williston Police Department (9000)" in text_of(done)
    package = db.packages.get("9000")
    assert package is not None and package.poc.aad_id == OTHER_AAD
    assert (package.agency.poc_name, package.agency.poc_email) == ("Olive Other", "olive@williston.example")
    entry = db.audit.of_target("package:9000")[-1]
    assert entry.action == "package.set_poc" and entry.actor.aad_id == JB_AAD
    assert entry.before == {
        "poc": {"aad_id": POC_AAD, "name": "Pat Poc"},
        "poc_name": "Pat Poc",
        "poc_email": "pat.poc@williston.example",
    }
    assert entry.after == {
        "poc": {"aad_id": OTHER_AAD, "name": "Olive Other"},
        "poc_name": "Olive Other",
        "poc_email": "olive@williston.example",
    }
    await connector.wait_for(
        lambda sent: any(s.method == "PUT" and "Point-of-Contact changed" in s.text for s in sent)
    )  # the form is replaced for everyone in the conversation: it cannot be sent twice by mistake


async def test_set_poc_e_mail_form_cancel_changes_nothing(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    connector.members = NO_EMAIL_ROSTER
    poc = Chat(client, connector)
    await poc.submit_package()
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await jb.type("/set-poc 9000 <at>Olive Other</at>", entities=[OLIVE])
    cancelled = await jb.press("Cancel")
    assert "Cancelled" in text_of(cancelled)
    assert poc.app.db.packages.get("9000").poc.aad_id == POC_AAD  # type: ignore[union-attr]


async def test_set_poc_by_e_mail_trusts_only_teams_roster_not_what_a_package_says(
    bot_client: Any, connector: FakeConnector
) -> None:
    """An outsider who typed the incoming PoC's e-mail into a package of their own does not get agency 9000."""
    client = await bot_client()
    incoming = "00000000-0000-4000-8000-00000000abcd"
    connector.members = [
        *ROSTER,
        {"id": f"29:{incoming}", "name": "Nora New", "aadObjectId": incoming, "email": "nora.new@williston.example"},
    ]
    await Chat(client, connector).submit_package()
    outsider = Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    forged = AGENCY | {"judiciary_code": "9100", "poc_name": "Nora New", "poc_email": "nora.new@williston.example"}
    await outsider.submit_package(forged)
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    done = await jb.type("/set-poc 9000 nora.new@williston.example")
    assert "Nora New is now the Point-of-Contact" in text_of(done)
    assert jb.app.db.packages.get("9000").poc.aad_id == incoming  # type: ignore[union-attr]
    twice = [*ROSTER, {"id": "29:x", "name": "Pat Again", "aadObjectId": incoming, "email": "olive@williston.example"}]
    connector.members = twice
    ambiguous = await jb.type("/set-poc 9000 olive@williston.example")
    assert "More than one" in text_of(ambiguous)
    assert jb.app.db.packages.get("9000").poc.aad_id == incoming  # type: ignore[union-attr]


async def test_input_that_went_wrong_quietly_is_refused_beside_its_field(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc = Chat(await bot_client(), connector)
    card = await poc.reach_officers(AGENCY | {"judiciary_code": "12345", "letterhead_address": "7928 Rd\tWilliston"})
    assert inputs(card)["judiciary_code"]["maxLength"] == 5 and "exactly 4 digits" in (
        error_under(card, "judiciary_code") or ""
    )
    card = await poc.press("Next", AGENCY | {"letterhead_address": "7928 Rd\tWilliston"})
    assert inputs(card)["officer_number"]["maxLength"] == 6
    refused = await poc.press("Next: review", officer(first="\u200b", username="-", start="9999-12-31"))
    assert "letters or digits" in (error_under(refused, "first_name") or "")
    assert "starting with a letter or digit" in (error_under(refused, "dps_username") or "")
    assert "within a year" in (error_under(refused, "start_date") or "")
    await poc.press("Next: review", officer())
    await poc.press("Submit")
    assert poc.app.db.packages.get("9000").agency.letterhead_address == "7928 Rd Williston"  # type: ignore[union-attr]


async def test_the_officers_step_pages_through_many_officers_and_keeps_the_form(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc = Chat(await bot_client(), connector)
    await poc.reach_officers()
    for index in range(17):
        card = await poc.press("Save and add another officer", officer(f"A{index:04d}", username=f"u{index}"))
    assert "Officers in this package so far: 17 (showing 16–17)" in text_of(card)
    earlier = await poc.press("Previous officers")
    assert "showing 1–15" in text_of(earlier) and "A0000" in text_of(earlier) and "A0016" not in text_of(earlier)
    assert "first_name" in inputs(earlier)  # the form for the next officer is still there
    review = await poc.press("Next: review", officer("B9999", username="last"))
    assert "(18)" in text_of(review)
