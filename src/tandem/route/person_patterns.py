"""The words of a request to be handed to a person ("let me talk to a manager", "could one of your
staff ring me?"), as regular expressions matched case-insensitively: a request, not a question about
how to reach one ("what are your phone hours?") or about other people ("can another person ride my
bike?"). The conversation policy's default `human_request_patterns`; `PersonRequestDetector` adds
closeness in meaning for wordings none of them knows.

Each pattern pairs someone at the company (`_PERSON`) with what a request does with them: talk to,
be put through to, be called by, want, ask to take over. Measured with `bench/person_requests.py`.
"""

from __future__ import annotations

_PERSON = (
    r"(?:(?:a|an|some|your|the|one\s+of\s+your|(?:someone|somebody)\s+(?:from|in|at)\s+(?:your|the)|"
    r"(?:a\s+)?member\s+of)\s+)?"
    r"(?:real\s+|actual\s+|live\s+|human\s+|proper\s+|senior\s+)?"
    r"(?:human(?:s|\s+beings?)?|humen|person|people|agents?|(?:someone|somebody)(?:\s+real)?|anyone|"
    r"representatives?|reps?|managers?|supervisors?|boss|team\s+lead(?:er)?s?|staff(?:\s+members?)?|"
    r"colleagues?|employees?|advis[eo]rs?|operators?|customer\s+(?:service|care)|"
    r"(?:support|service)\s+(?:team|staff|people|person|agent|department)|your\s+team|the\s+team|"
    r"whoever\s+(?:handles|deals\s+with|is\s+in\s+charge)|someone\s+in\s+charge|technicians?|mechanics?)\b"
)
_AT = r"(?:\s+(?:from|in|at)\s+(?:your|the)\s+\w+)?"  # "...from your office"
_CONTACT = r"(?:call|phone|ring|contact|email|message|get\s+back\s+to|get\s+in\s+touch\s+with)"

HUMAN_REQUEST_PATTERNS = [
    # talk to someone: "let me talk to your boss", "a word with somebody in your support department"
    rf"\b(?:talk|speak|chat|deal|have\s+a\s+word|get\s+in\s+touch|be\s+put\s+in\s+touch)(?:ing)?\s+"
    rf"(?:(?:this|it|directly|personally|properly|in\s+person)\s+)?(?:through\s+|over\s+)?(?:to|with)\s+{_PERSON}",
    rf"\b(?:talk|speak|chat)(?:ing)?\s+(?:to|with)\s+(?:\w+\s+){{0,2}}{_PERSON}",
    rf"\bdiscuss\s+(?:\w+\s+){{1,2}}with\s+{_PERSON}",
    r"\bwith\s+one\s+of\s+your\s+(?:people|staff|team|colleagues|agents|employees)\b",
    # be moved to someone: "put me through to a supervisor", "escalate this to a team lead"
    rf"\b(?:put|get|transfer|connect|hand|pass|escalate|forward|send|move)\s+(?:me|this(?:\s+(?:conversation|"
    rf"chat|case|one))?|it|my\s+(?:case|complaint|ticket|claim))\s+(?:on\s+|over\s+|through\s+|up\s+)?"
    rf"(?:to|with)\s+{_PERSON}",
    rf"\bescalat(?:e|ed|ing)\s+(?:\w+\s+){{0,3}}(?:to|with)\s+{_PERSON}",
    rf"\b(?:get|give|find|send)\s+me\s+{_PERSON}",
    rf"\b(?:get|have|put)\s+{_PERSON}\s+on\s+the\s+(?:line|phone)\b",
    # want someone: "I insist on speaking to a manager", "I want this looked at by a human being"
    rf"\b(?:want|need|would\s+like|'d\s+like|prefer|insist\s+on|demand|rather\s+have|ask(?:ing)?\s+for|"
    rf"request(?:ing)?)\s+(?:to\s+(?:talk|speak)\s+(?:to|with)\s+|speaking\s+(?:to|with)\s+)?"
    rf"(?:this\s+(?:looked\s+at|handled|reviewed|checked)\s+by\s+)?{_PERSON}",
    # someone should act: "could someone from your office contact me", "get a supervisor to look into this"
    r"\b(?:can|could|would|will|may|might)\s+(?:you\s+(?:get|have|ask)\s+)?"
    r"(?:someone|somebody|an?\s+(?:real\s+|actual\s+)?(?:person|human|agent|representative|employee|"
    r"staff\s+member|colleague|manager|supervisor)|one\s+of\s+your\s+\w+|a\s+member\s+of\s+(?:staff|your\s+team))"
    r"(?:\s+(?:from|in|at|on)\s+(?:your|the)\s+\w+(?:\s+\w+)?)?\s+(?:to\s+)?(?:(?:please|just|kindly)\s+)*"
    r"(?:call|phone|ring|contact|email|message|get\s+back\s+to|look\s+(?:at|into)|review|take\s+over|handle|"
    r"sort\s+(?:out|this)|check|help)\b",
    r"\b(?:can|could|would|will)\s+(?:one\s+of\s+your\s+(?:staff|team|colleagues|agents)|a\s+colleague\s+of\s+yours)\s+\w+",
    rf"\b(?:get|have|ask)\s+{_PERSON}{_AT}\s+to\s+(?:{_CONTACT}|look|review|check|sort|handle)",
    rf"{_PERSON}{_AT}\s+(?:could|can|would|to|please)\s+(?:please\s+)?{_CONTACT}\s+me\b",
    r"\bhave\s+(?:someone|somebody|a\s+(?:real\s+)?(?:person|human)|an\s+agent|a\s+colleague)\s+"
    r"(?:call|phone|ring|contact)\s+me\b",
    r"\b(?:call|phone|ring)\s+me\s+back\b|\bgive\s+me\s+a\s+call\b",
    r"\b(?:want|like|need|request|get|have|arrange)\s+a\s+call[\s-]?back\b",
    # is anyone there: "is there a human available?", "someone I could deal with directly"
    r"\b(?:is|are)\s+there\s+(?:a|an|any|some)?\s*(?:real\s+|actual\s+)?(?:human|person|people|someone|"
    r"somebody|anyone|anybody|agent|staff)\s+(?:available|there|on\s+your\s+(?:end|side)|(?:i|we)\s+(?:can|could)\s+"
    r"(?:talk|speak|chat|deal)|who\s+(?:can|could)\s+(?:help|check|look|sort|talk|deal))",
    r"\b(?:someone|somebody|an?\s+(?:real\s+|actual\s+)?(?:person|human))\s+(?:i|we)\s+(?:can|could)\s+"
    r"(?:talk|speak|deal|chat)\s+(?:to|with)\b",
    r"\bwho\s+(?:can|could)\s+i\s+(?:actually\s+|really\s+)?(?:talk|speak|deal)\s+(?:to|with)\b",
    # someone alive: "anyone with an actual heartbeat I could swap messages with", "somebody with a pulse"
    r"\b(?:anyone|anybody|someone|somebody|a\s+person)\s+with\s+an?\s+(?:actual\s+|real\s+)?(?:heartbeat|pulse)\b",
    # someone in charge: "somebody with actual authority over this I could put it to"
    r"\b(?:anyone|anybody|someone|somebody)\s+(?:at\s+\w+\s+)?with\s+(?:actual\s+|real\s+|proper\s+|any\s+)?"
    r"(?:authority|power|the\s+power|the\s+authority)\b",
    r"\bwho\s+(?:at|from)\s+(?:your\s+company|the\s+company|pedalwise|your\s+end)\s+can\b",
    # not a machine: "not a bot", "stop the automated answers"
    r"\b(?:not|no|don'?t\s+want)\s+(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?(?:a\s+|the\s+|this\s+|another\s+)?"
    r"(?:chat\s?)?bot\b(?!\s+(?:is|was|said|says|told|keeps))",
    r"\b(?:not|rather\s+than|instead\s+of)\s+(?:a|an|this)?\s*(?:machine|bot|robot|automated\s+(?:reply|answer|"
    r"system)s?)(?![\w-])",
    r"\bstop\s+(?:the\s+)?(?:automated|canned|bot)\s+(?:answers|replies|responses)\b",
    r"^\W*(?:a\s+)?(?:human|agent|person|operator|representative|real\s+person|supervisor|manager)\W*"
    r"(?:please|pls|now)?\W*(?:please|pls|now)?\W*$",
    # German, French, Dutch
    r"\b(?:mit\s+)?(?:einem|einer)\s+(?:echten\s+|richtigen\s+)?(?:Menschen|Mitarbeiter(?:in)?|Person)\s+"
    r"(?:sprechen|reden|verbinden)",
    r"\b(?:jemand(?:en|em)?|einen\s+Vorgesetzten|einen\s+Mitarbeiter|eine\s+Mitarbeiterin|einen\s+Menschen)\s+"
    r"(?:\w+\s+)?(?:sprechen|erreichen)\b",
    r"\bparler\s+(?:à|a|avec)\s+(?:quelqu'un|un\s+humain|une\s+personne|un\s+conseiller|un\s+agent)",
    r"\bpassez[- ]moi\s+(?:un|une|quelqu)",
    r"\b(?:met\s+)?(?:een\s+)?(?:mens|medewerker|persoon)\s+(?:spreken|praten)",
    r"\b(?:kan|kunt)\s+(?:iemand|een\s+medewerker)\b[^.?!]{0,40}\b(?:bellen|mailen|contact)",
]
