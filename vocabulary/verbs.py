"""Every Action.Execute verb the bot's cards carry: one enum, so routing is by table."""

from __future__ import annotations

from enum import Enum


class Verb(str, Enum):
    """Card action verbs; the record's ids travel in the action's data."""

    # the Information Package wizard
    WIZARD_NEXT = "wizard.next"
    WIZARD_BACK = "wizard.back"
    WIZARD_EDIT = "wizard.edit"
    WIZARD_ADD_OFFICER = "wizard.add_officer"
    WIZARD_REMOVE_OFFICER = "wizard.remove_officer"
    WIZARD_SUBMIT = "wizard.submit"
    WIZARD_CANCEL = "wizard.cancel"
    WIZARD_RESUME = "wizard.resume"
    WIZARD_RESTART = "wizard.restart"
    # the JB's work
    ACKNOWLEDGE = "package.acknowledge"
    ACKNOWLEDGE_OFFICERS = "officers.acknowledge"
    PACKAGE_PAGE = "package.page"
    SET_POC_SUBMIT = "package.set_poc_submit"
    APPROVE = "officer.approve"
    APPROVE_CONFIRM = "officer.approve_confirm"
    EXTEND = "officer.extend"
    EXTEND_SUBMIT = "officer.extend_submit"
    WITHDRAW_CONFIRM = "officer.withdraw_confirm"
    RETURN_TO_MONITORING = "officer.return"
    RETURN_TO_MONITORING_CONFIRM = "officer.return_confirm"
    END_EXTENSION = "officer.end_extension"
    END_EXTENSION_CONFIRM = "officer.end_extension_confirm"
    EDIT_OFFICER_SAVE = "officer.edit_save"
    RESEND = "notice.resend"
    RESEND_CONFIRM = "notice.resend_confirm"
    RESOLVE = "incident.resolve"
    ADD_FROM_ALERT = "incident.add_officer"
    PAGE = "list.page"
    CANCEL = "card.cancel"
    # Universal Actions: Teams asks for a card as it stands now (alerts, readiness cards)
    REFRESH = "card.refresh"
