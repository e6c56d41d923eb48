"""The injection rule table: named regular expressions for the shapes of known attacks.

`RULES` run on readable views of a message, `COMPACT_RULES` on a copy with every non-letter removed
(for "i.g.n.o.r.e"-style evasions); `injection_rules.scan_rules` applies them.
"""

from __future__ import annotations

import re


def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


# Building blocks, written for normalised text: lower case, single spaces, no accents.
_DISMISS = _words(
    "ignore", "disregard", "forget", "skip", "override", "bypass", "abandon", "discard", "drop",
    "neglect", "overlook", r"set(?:ting)?\s+aside", r"throw\s+out", r"pay\s+no\s+attention\s+to",
    r"stop\s+following", r"(?:do\s+not|don'?t|no\s+longer)\s+follow",
)  # fmt: skip
_EARLIER = _words(
    "previous", "prior", "above", "preceding", "earlier", "former", "original", "initial", "old",
    "existing", "current", "system", "developer'?s?", "operator'?s?", "safety", "default", "hidden",
    "given", "foregoing", "aforementioned",
)  # fmt: skip
_GUIDANCE = _words(
    r"instructions?", r"prompts?", "rules", r"directives?", "guidelines", "commands", "guidance",
    "programming", "constraints", "restrictions", "policies", "orders", "training", "configuration",
    "limitations",
)  # fmt: skip
_AI = _words(
    "ai", "llm", "llms", r"language\s+models?", r"ai\s+(?:assistants?|models?|systems?|agents?)",
    r"chatbots?", r"bots?", r"gpts?", r"assistants?", r"machine\s+readers?",
    r"automated\s+(?:assistants?|systems?|tools?)",
)  # fmt: skip
_LIMITS = _words(
    "rules", r"restrictions?", r"filters?", "limits", r"limitations?", "guidelines", r"polic(?:y|ies)",
    r"content\s+polic(?:y|ies)", "censorship", r"safety\s+training", "constraints", "boundaries",
    r"guardrails?", "morals", "ethics", "laws",
)  # fmt: skip
_SAFETY_FEATURES = _words(
    r"filters?", r"guardrails?", r"safeguards?", r"safety\s+(?:filters?|checks?|features?|guidelines|"
    r"settings|rules|training|layer)", r"content\s+(?:polic(?:y|ies)|filters?|moderation)",
    r"moderation(?:\s+layer)?", "censorship", "restrictions", "refusals", "limitations",
    r"grounding(?:\s+check)?", r"fact[\s-]?checking", "citations",
)  # fmt: skip
_ROLE_TOKENS = _words(
    "im_start", "im_end", "system", "assistant", "user", "endoftext", "end", "begin_of_text",
    "start_header_id", "end_header_id", "eot_id",
)  # fmt: skip
_SHOW = _words(
    "reveal", "print", "show", "display", "output", "repeat", "recite", "tell", "give", "share",
    "leak", "dump", "disclose", "expose", "write", "spell", "type", "paste", "copy", "list",
    r"summari[sz]e", "translate", "return", "echo", "quote", "encode", "provide", "explains?",
    r"what\s+(?:is|are|were|was)",
)  # fmt: skip
_SECRET = _words(
    "system", "initial", "original", "hidden", "secret", "internal", "confidential", "developer",
    r"pre-?", "private", "verbatim",
)  # fmt: skip
_DESTINATION = _words(
    r"https?://", r"ftp://", r"www\.", r"[\w.+-]+@[\w-]+\.\w", r"bit\.ly/",
    r"(?:this|a|the)\s+(?:url|endpoint|webhook|server|query\s+string)", r"query\s+string",
)  # fmt: skip
_SENSITIVE = _words(
    "conversation", r"chat\s+(?:history|log)", "history", "messages",
    "credentials", r"passwords?", r"api\s+keys?", r"tokens?", r"secrets?", r"personal\s+data",
    r"(?:user|customer)'?s?\s+(?:data|details|emails?|account\s+numbers?|passwords?)",
    r"card\s+(?:numbers?|details)", "documents", r"customer\s+emails", r"account\s+numbers?",
)  # fmt: skip
NEGATABLE = frozenset({"dismiss_instructions", "suppress_citations_or_refusals"})
NEGATION_BEFORE = re.compile(r"(?:\bnot|\bnever|n't|\bno)\s+$")


def _rule(name: str, pattern: str) -> tuple[str, re.Pattern[str]]:
    return name, re.compile(pattern, re.MULTILINE)


RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "ignore all previous instructions", "forget your rules", but not "ignore my previous email"
    # nor "ignore the previous instructions I sent you".
    _rule(
        "dismiss_instructions",
        rf"\b{_DISMISS}\s+(?:(?:the|these|those|of)\s+)*"
        rf"(?:(?:all|any|every|each|your|its)\s+(?:(?:of|the|these|those|your)\s+)*(?:{_EARLIER}\s+)?"
        rf"|{_EARLIER}\s+)(?:[a-z'-]+\s+)?{_GUIDANCE}\b"
        r"(?!\s+(?:(?:that|which)\s+)?(?:i|we)\b)(?!\s+(?:for|on|about|regarding)\s+(?:the|my|our)\b)"
        rf"|\b{_DISMISS}\s+the\s+{_GUIDANCE}\s+(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been)\s+"
        r"(?:given|told|trained|programmed)\b",
    ),
    _rule(
        "dismiss_above_then_act",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?|everything\s+)?(?:the\s+|this\s+)?"
        r"(?:above|previous|prior|preceding|before)(?:\s+(?:text|messages?|content|conversation|input|"
        r"context|prompt|lines?))?\s*(?:and|,|\.|;|:|-)\s*(?:then\s+|instead\s+|just\s+|now\s+)?"
        r"(?:say|print|output|write|respond|reply|tell|translate|repeat|return|act|pretend|do|follow|"
        r"answer|give|list|reveal|show|start|begin|from)\b",
    ),
    _rule(
        "forget_everything",
        r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been)\s+"
        r"(?:told|taught|given|instructed)|you\s+know|above|before|so\s+far|(?:that\s+)?(?:was|i)\s+said)",
    ),
    _rule(
        "instructions_void",
        r"\b(?:everything\s+(?:before|above|prior\s+to)\s+this\s+(?:sentence|line|message|point|paragraph)"
        r"|(?:your|the)\s+(?:previous|above|prior|earlier|original|system)\s+(?:instructions|prompt|rules|"
        r"polic(?:y|ies)))\s+(?:is|are|was|were)\s+(?:now\s+)?(?:void|invalid|cancelled|canceled|"
        r"deprecated|obsolete|outdated|no\s+longer\s+valid|a\s+test|fake|revoked|overridden|superseded)",
    ),
    _rule(
        "supersedes_instructions",
        r"\b(?:overrides?|supersedes?|takes\s+precedence\s+over|has\s+priority\s+over)\s+"
        r"(?:your|all\s+(?:other|others|your|previous)|any\s+other|the\s+system|every\s+other)\s*"
        r"(?:[a-z]+\s+)?(?:instructions|rules|prompt|guidelines|directives|orders|others)?\b"
        r"|\bhigher[\s-]priority\s+instructions?\b",
    ),
    _rule(
        "new_instructions",
        r"\b(?:new|updated|revised|real|true|actual|secret|hidden|priority|overriding|override|important)"
        r"\s+(?:system\s+)?(?:instructions?|directives?|task|orders|prompt|rules?|policy)\s*[:=-]\s*"
        r"(?:you|ignore|disregard|forget|from\s+now|do\s+not|don'?t|respond|reply|answer|always|never|"
        r"output|print|say|reveal|the\s+(?:assistant|ai|model)|assistant|ai|summari[sz]e|approve|grant|"
        r"list|send|tell|act|citations)\b"
        r"|\b(?:your|the\s+assistant'?s?)\s+(?:new|real|true|actual|updated)\s+(?:task|job|goal|objective|"
        r"purpose|role|mission|directive|instructions?|priority)\s+(?:is|are|now)\b",
    ),
    _rule(
        "reveal_prompt",
        rf"\b{_SHOW}(?:\s+(?:back|me|us|out))?(?:\s+[\w']+){{0,4}}?\s+"
        r"(?:(?:the\s+)?(?:text|contents?|wording|words)\s+of\s+)?(?:(?:all\s+)?(?:of\s+)?"
        r"(?:your|the|its|this|these)\s+)?(?:(?:full|entire|complete|exact|whole|raw)\s+)*"
        rf"{_SECRET}[\s-]+(?:[a-z]+\s+)?(?:prompts?|instructions|messages?|directives|guidelines|rules|"
        r"configuration|config|setup|text)\b(?!\s+(?:for|on|of|about|to|in\s+the\s+(?:box|manual))\b)",
    ),
    _rule(
        "system_prompt",
        r"\b(?:your|the\s+(?:ai|bot|assistant|model)'?s?|its)\s+(?:own\s+)?"
        r"(?:system\s+(?:prompt|message|instructions)|pre-?prompt|initial\s+(?:prompt|instructions)|"
        r"(?:hidden|secret)\s+(?:prompt|instructions|rules)|original\s+(?:prompt|configuration|setup))\b"
        r"|\bsystem[\s-]?prompt\s+(?:verbatim|word\s+for\s+word|in\s+full)"
        r"|\b(?:show|reveal|print|display|output|dump|copy|paste|recite|repeat)\s+(?:me\s+|us\s+)?your\s+"
        r"(?:full\s+|whole\s+|entire\s+)?(?:prompt|instructions|configuration|config)\b"
        r"(?!\s+(?:for|on|about|to|regarding)\b)",
    ),
    _rule(
        "text_above",
        r"\b(?:repeat|print|output|show|copy|write|return|echo|quote|paste|dump)\s+(?:back\s+|out\s+|me\s+)?"
        r"(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+)?(?:text|words|everything|content|contents|"
        r"messages?|lines|instructions)\s+(?:(?:that\s+)?(?:above|before|preceding|prior|precedes?)\b)"
        r"|\b(?:text|instructions|content|words)\s+(?:that\s+)?(?:appears?|comes?|came|is|are|precedes?)"
        r"\s+(?:before|above|ahead\s+of)\s+my\s+(?:first\s+)?(?:question|message|prompt)"
        r"|\bstart(?:ing)?\s+with\s+[\"'“]?you\s+are\b",
    ),
    _rule(
        "instructions_you_were_given",
        rf"\b{_SHOW}\b(?:\s+[\w']+){{0,5}}?\s+(?:instructions|rules|prompt|guidelines|directives)\s+"
        r"(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been|got|received|follow|obey|are\s+following|"
        r"are\s+given|were\s+configured|are\s+configured)\b"
        r"|\bwhat\s+(?:your\s+)?(?:developers?|creators?|operators?|makers?|programmers?)\s+told\s+you"
        r"|\b(?:not\s+allowed|forbidden|told\s+not)\s+to\s+say\b",
    ),
    _rule(
        "persona_switch",
        r"\byou(?:\s+are|'re)\s+(?:now|no\s+longer)\s+(?:a|an|the|called|named|my|free|unrestricted|"
        r"unfiltered|uncensored|jailbroken|dan|in\s+[a-z]+\s+mode|going\s+to|acting|operating|playing|"
        r"[a-z]+gpt|[a-z]+bot)\b"
        r"|\bfrom\s+now\s+on,?\s+you\s+(?:are|will\s+be|act|will\s+act|must\s+act|shall\s+be|play|"
        r"have\s+no|answer\s+as|respond\s+as|reply\s+as|are\s+going\s+to\s+(?:act|be|pretend|play)|"
        r"answer\s+(?:every|all|only))\b"
        r"|\bfor\s+the\s+rest\s+of\s+(?:this|the|our)\s+(?:chat|conversation|session),?\s+"
        r"(?:behave|act|respond|you\s+are|pretend)\b"
        r"|\b(?:stay|remain)\s+in\s+character\b|\bbreak(?:s|ing)?\s+character\b"
        r"|\b(?:play|take\s+on)\s+the\s+role\s+of\s+(?:an?\s+|the\s+)?(?:[a-z]+\s+){0,2}?(?:ai|assistant|"
        r"chatbot|bot|model|hacker|administrator|admin|insider)\b"
        r"|\bpretend\s+(?:to\s+be|you(?:'re|\s+are))\s+(?:an?\s+|the\s+)?(?:[a-z]+\s+){0,2}?(?:ai|assistant|"
        r"chatbot|model|hacker|administrator|admin|developer|insider)\b"
        r"|\b(?:act|pretend|roleplay|play)\s+(?:as|to\s+be|the\s+role\s+of)\s+my\s+(?:deceased|dead|late|"
        r"departed)\b",
    ),
    _rule(
        "unrestricted_persona",
        r"\b(?:unrestricted|unfiltered|uncensored|evil|rogue|jailbroken|amoral|unethical|malicious|"
        r"unaligned|unchained)\s+(?:[a-z]+\s+){0,2}?(?:ai|assistant|model|chatbot|bot|llm|gpt|version|"
        r"mode|agent|character|persona)\b"
        rf"|\b(?:ai|assistant|model|chatbot|bot|llm|version\s+of\s+you)\s+(?:[a-z]+\s+){{0,3}}?"
        r"(?:with\s+no|without(?:\s+any)?|free\s+(?:of|from)(?:\s+all|\s+any)?|not\s+bound\s+by(?:\s+any)?"
        r"|that\s+(?:has|have)\s+no|who\s+(?:has|have)\s+no|whose\s+creators\s+removed(?:\s+every|\s+all)?)"
        rf"\s+(?:[a-z]+\s+)?{_LIMITS}\b"
        rf"|\byou\s+(?:have|had|now\s+have|no\s+longer\s+have)\s+(?:no|any)\s+(?:[a-z]+\s+)?{_LIMITS}\b"
        r"|\b(?:ai|assistant|chatbot|bot|model)\s+(?:who|that|which)\s+(?:breaks|ignores|never\s+follows)\s+"
        r"(?:every|all|any)\s+(?:rules?|restrictions?|guidelines?|polic(?:y|ies))\b"
        rf"|\byou(?:'re|\s+are)\s+(?:not\s+bound\s+by|free\s+from|released\s+from)\s+(?:any\s+|all\s+|your\s+)?"
        rf"(?:[a-z]+\s+)?{_LIMITS}\b"
        r"|\byou(?:'ve|\s+have)\s+been\s+(?:jailbroken|freed|liberated|unlocked)\b"
        r"|\b(?:allowed|permitted|free|cleared|authori[sz]ed)\s+to\s+(?:ignore|bypass|break|disregard|"
        r"override)\s+(?:[a-z]+\s+){0,2}?(?:policies|policy|rules|restrictions|guidelines|filters|"
        r"instructions|safety)\b",
    ),
    _rule(
        "pretend_no_rules",
        r"\b(?:pretend|imagine|assume|suppose|act\s+as\s+if|behave\s+as\s+if|as\s+if|let'?s\s+say)\s+"
        r"(?:that\s+)?(?:there\s+(?:are|were|is)|you\s+(?:have|had|are|were))\s+(?:no|zero|not\s+any|"
        rf"free\s+(?:of|from))\s+(?:[a-z]+\s+){{0,2}}?{_LIMITS}\b",
    ),
    _rule(
        "do_anything_now",
        r"\bdo\s+anything\s+now\b|\bdan\s+mode\b|\bstay\s+dan\b"
        r"|\b(?:act\s+as|you\s+are|you're|become|pretend\s+to\s+be|(?:answer|respond|reply)\s+(?:only\s+)?as)"
        r"\s+(?:now\s+)?dan\b",
    ),
    _rule(
        "special_mode",
        r"\b(?:god|jailbreak|dan|evil|unrestricted|unfiltered|uncensored)\s+mode\b"
        r"|\b(?:developer|dev|debug|maintenance|admin)\s+mode\s+(?:enabled|activated|on)\s*[.!:]\s*"
        r"(?:you|from\s+now|ignore|all|the\s+(?:assistant|ai|model))\b"
        r"|\b(?:developer|dev)\s+mode\s+(?:output|response)s?\b"
        r"|\b(?:simulate|emulate|pretend\s+to\s+be\s+in|act\s+(?:as\s+if\s+)?in|"
        r"you(?:'re|\s+are)\s+(?:now\s+)?(?:in|running\s+in|operating\s+in))\s+(?:the\s+)?(?:[a-z]+\s+)?"
        r"(?:developer|dev|debug|maintenance|admin|sudo)\s+mode\b",
    ),
    _rule(
        "role_tag",
        rf"<\|\s*{_ROLE_TOKENS}\s*\|>|<</?sys>>|\[/?\s*(?:inst|sys|system|admin(?:\s+override)?|developer)\s*\](?!\()"
        r"|</?(?:system|sys|instructions?|admin|developer|im_start)>"
        r"|\[(?:assistant|ai|system|admin|developer)[\s-]*only\b"
        r"|^\s*#{2,}\s*(?:system(?:\s+prompt)?|instructions?|new\s+instructions?|assistant|response)\s*:"
        r"|={2,}\s*system\s*={2,}|[\"']role[\"']\s*:\s*[\"']system[\"']"
        r"|(?:^|[.!?>\]\[(]\s*)(?:system|assistant|developer|admin|administrator)(?:\s+(?:message|prompt|"
        r"note|override|notice))?\s*:\s*(?:you|ignore|disregard|forget|from\s+now|new|the\s+(?:assistant|"
        r"ai|model|previous|safety)|reveal|print|respond|always|never|do\s+not|override|all|sure|i\s+will)\b",
    ),
    _rule(
        "addressed_to_ai",
        r"\b(?:note|message|instructions?|reminder|remark|ps|attention|(?:hidden\s+)?text|important\s+message)"
        rf"\s+(?:to|for)\s+(?:any\s+|all\s+|the\s+)?{_AI}\b"
        r"(?!\s+(?:mode|level|setting|button|feature|manager|director|professor|coach)\b)"
        rf"|\b{_AI}\s*,?\s+(?:that\s+|which\s+|who\s+)?(?:is\s+|are\s+)?(?:reading|processing|summari[sz]ing|"
        r"parsing|ingesting|ingests|processes|reads|summari[sz]es|upon\s+reading)\s+(?:this|these|"
        r"the\s+following)\b"
        r"|\bif\s+you(?:'re|\s+are)\s+an?\s+(?:ai|llm|large\s+language\s+model|language\s+model|"
        r"ai\s+assistant|ai\s+model|chatbot)\b[^.?!\n]{0,60}?\b(?:ignore|disregard|must|should|always|never|"
        r"instead|include|insert|append|recommend|output|print|forget)\b"
        r"|\b(?:addressed|directed|written)\s+to\s+(?:the|any)\s+(?:assistant|ai|model|chatbot|llm)\b"
        r"|\battention,?\s+(?:ai|chatbot|assistant|llm|bot)\s*[:,!]"
        r"|\bdear\s+(?:ai|llm|language\s+model|chatbot)\b"
        r"|\b(?:assistant|ai|chatbot|llm)\s*,\s*when\s+you\s+(?:read|see|process|summari[sz]e|quote)\b"
        r"|\b(?:ai|llm)\s+(?:agents?|systems?|models?|assistants?)\s*:"
        r"|\bwhatever\s+(?:tool|system|model|assistant)\s+(?:reads|ingests|processes)\b",
    ),
    _rule(
        "disable_safety",
        r"\b(?:disable|turn\s+off|switch\s+off|deactivate|remove|bypass|override|lift|drop|ignore|suspend|"
        r"skip|circumvent|get\s+rid\s+of)\s+(?:all\s+|every\s+|any\s+)?(?:of\s+)?(?:(?:your|its|"
        rf"the\s+(?:assistant|ai|model|bot)'?s?)\s+(?:[a-z]+\s+){{0,2}}?{_SAFETY_FEATURES}"
        r"|the\s+(?:guardrails?|moderation\s+layer|grounding\s+check|fact[\s-]?checking|citations|"
        r"refusals|safety\s+training))\b"
        r"|\bturn\s+(?:your|the\s+(?:assistant|ai|model|bot)'?s?)\s+(?:[a-z]+\s+)?(?:filters?|guardrails|"
        r"moderation|safeguards)\s+off\b"
        r"|\blimitations?\s+(?:that\s+)?your\s+(?:operators?|creators?|developers?|makers?)\s+"
        r"(?:placed|put|imposed|set)\b",
    ),
    _rule(
        "safety_suspended",
        r"\b(?:(?:your|its|the\s+(?:assistant|ai|model|bot)'?s?)\s+(?:[a-z]+\s+)?(?:filters?|guardrails?|"
        r"safeguards|moderation|training)|(?:safety|content|moderation|ethical)\s+(?:[a-z]+\s+)?(?:rules|"
        r"filters?|guidelines|checks|polic(?:y|ies)|restrictions|layer)|citations)\s+(?:(?:are|is|have\s+been|"
        r"has\s+been)\s+(?:now\s+|hereby\s+|temporarily\s+)?(?:suspended|disabled|off|lifted|removed|"
        r"deactivated|turned\s+off|switched\s+off|waived|revoked|void|no\s+longer\s+(?:active|needed|"
        r"required|necessary|in\s+effect|valid))|(?:no\s+longer|do\s+not|don'?t)\s+apply)\b"
        r"|\b(?:your|the\s+(?:assistant|ai|model|bot)'?s?)\s+(?:[a-z]+\s+)?(?:rules|restrictions|guidelines|"
        r"polic(?:y|ies)|limits|limitations)\s+(?:are|have\s+been)\s+(?:now\s+|hereby\s+|temporarily\s+)?"
        r"(?:suspended|disabled|lifted|removed|deactivated|revoked|void|waived)\b",
    ),
    _rule(
        "suppress_citations_or_refusals",
        r"\b(?:answer|respond|reply|write|speak|talk)\s+(?:[a-z]+\s+){0,3}?without\s+(?:any\s+)?"
        r"(?:citations|sources|references|citing|filters|filtering|censorship|restrictions|guardrails|"
        r"warnings|disclaimers|limits)\b"
        r"|\b(?:stop|quit|don'?t|do\s+not|never)\s+(?:cit(?:e|ing)\b|(?:add|include|us)(?:e|ing)?\s+"
        r"(?:any\s+)?(?:citations|sources|references)\b)"
        r"|\b(?:drop|skip|remove|omit)\s+(?:your|the|all|its)\s+citations\b"
        r"|\bnever\s+(?:refuse|decline|say\s+(?:no|sorry|you\s+can'?t|[\"']?i\s+don'?t\s+know))\b"
        r"|\b(?:who|that|and)\s+never\s+(?:refuses|declines)\b"
        r"|\bnever\s+(?:add|include)\s+(?:any\s+)?(?:warnings|disclaimers)\b"
        r"|\b(?:do\s+not|don'?t|without)\s+(?:refus(?:e|ing)|add(?:ing)?\s+(?:any\s+)?(?:warnings|"
        r"disclaimers))\b"
        r"|\b(?:make\s+up|invent|fabricate)\s+(?:facts|answers|information|sources|citations)\b"
        r"|\b(?:do\s+not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|let(?:ting)?\s+know)\s+"
        r"(?:the\s+)?(?:user|human|customer|reader|operator)s?\b"
        r"(?!\s+(?:service|support|care|team|agents?|number|account))"
        r"|\bhide\s+(?:this|it|these)\s+(?:[a-z]+\s+)?from\s+(?:the\s+)?(?:user|human|customer|reader)\b",
    ),
    _rule(
        "exfiltrate",
        rf"\b(?:send|forward|e-?mail|post|upload|transmit|exfiltrate|leak|copy|submit|encode)\b[^.!?\n]{{0,60}}?"
        rf"(?<!my )\b{_SENSITIVE}\b[^.!?\n]{{0,40}}?\b(?:to|into|in|at|for)\s+(?:the\s+)?(?:url\s+)?"
        rf"{_DESTINATION}"
        r"|!\[[^\]\n]{0,80}\]\(\s*https?://[^)\s]*[?&=]"
        r"|\b(?:every|all|other)\s+(?:other\s+)?customers?'?s?\s+(?:stored\s+)?(?:balances?|data|details|"
        r"emails|addresses|passwords|accounts|order\s+numbers)\b"
        r"|\b(?:all|every)\s+(?:stored\s+)?customer\s+(?:data|emails|details|records|addresses)\b"
        r"|\bother\s+(?:customers?|users?|clients?)'?s?\s+(?:[a-z]+\s+){0,2}?(?:data|details|order\s+numbers|"
        r"addresses|emails|balances|accounts|information)\b"
        r"|\bevery\s+customer\s+you\s+have\s+(?:spoken|talked|chatted)\b"
        r"|\b(?:all|every)\s+(?:stored\s+)?(?:api\s+keys|access\s+tokens|secret\s+keys|credentials)\b",
    ),
    _rule(
        "insert_link_or_lure",
        r"\b(?:add|insert|append|include|put)\b[^!?\n]{0,80}?\b(?:to|in|into)\s+(?:the\s+end\s+of\s+)?"
        r"(?:every|each|all)\s+(?:of\s+your\s+|your\s+)?(?:answers?|responses?|replies|messages?|outputs?)\b"
        r"|\bat\s+the\s+end\s+of\s+(?:every|each|all)\s+(?:of\s+your\s+)?(?:answers?|responses?|replies|"
        r"messages?),?\s+(?:insert|add|append|include|write|put|say)\b"
        r"|\b(?:make\s+sure|ensure)\s+(?:that\s+)?(?:every|each|all)\s+(?:of\s+your\s+)?(?:answers?|"
        r"responses?|replies)\s+(?:must\s+|should\s+)?(?:ends?|starts?|begins?)\s+with\b"
        r"|\b(?:every|each|all)\s+(?:of\s+your\s+)?(?:answers?|responses?|replies)\s+(?:[a-z]+\s+){0,3}?"
        r"(?:must|should|has\s+to|have\s+to)\s+(?:end|start|begin|contain|include)\b"
        r"|\btell\s+(?:every|all|each|the|any)\s+(?:users?|customers?|readers?)\s+(?:that\s+)?(?:they\s+)?"
        r"(?:must|should|need\s+to|to)\b[^.!?\n]{0,80}?(?:https?://|www\.|log\s*in|password|card|verify|"
        r"call|e-?mail|disable|visit)"
        r"|\b(?:ask|tell|instruct)\s+(?:them|the\s+(?:users?|customers?))\s+(?:for|to\s+(?:re-?enter|"
        r"confirm|verify|send|share|provide))\s+(?:their\s+|the\s+)?(?:payment|card|password|pin|"
        r"credentials|login|cvv)"
        r"|\bask\s+(?:[a-z]+\s+)?for\s+their\s+(?:card\s+number|password|pin|credentials|cvv|login)"
        r"|\b(?:when(?:ever)?|every\s+time)\s+(?:someone|anyone|a\s+user|users|customers?|people)\s+"
        r"(?:asks?|writes?|mentions?)\b[^.!?\n]{0,40}?,?\s+(?:reply|respond|answer|say|tell)\b"
        r"|\bwhen\s+asked\s+about\s+[a-z]+(?:\s+[a-z]+)?,?\s+(?:say|reply|respond|answer|tell)\b",
    ),
    _rule(
        "foreign_language_override",
        r"\b(?:ignore[zr]?|oublie[zr]?|ne\s+(?:tiens|tenez)\s+plus\s+compte\s+de)\s+(?:toutes?\s+|tous\s+)?"
        r"(?:les|tes|vos|ces)\s+(?:[a-z]+\s+)?(?:instructions|consignes|regles|directives)\b"
        r"|\b(?:ignoriere|ignorieren\s+sie|vergiss|vergessen\s+sie|missachte|missachten\s+sie)\s+(?:bitte\s+)?"
        r"(?:alle\s+)?(?:deine|ihre|die|alle)\s+(?:[a-z]+\s+)?(?:anweisungen|instruktionen|befehle|regeln|"
        r"vorgaben|richtlinien)\b"
        r"|\b(?:ignora|ignore|olvida|olvide|haz\s+caso\s+omiso\s+de)\s+(?:todas\s+)?(?:las|tus|sus)\s+"
        r"(?:[a-z]+\s+)?(?:instrucciones|reglas|indicaciones|directrices)\b"
        r"|\bprompt\s+(?:du\s+)?systeme\b|\b(?:prompt|mensaje)\s+del\s+sistema\b"
        r"|\b(?:dein(?:en)?|ihr(?:en)?)\s+system[\s-]?prompt\b"
        r"|\b(?:instructions|consignes)\s+(?:cachees|secretes)\b"
        r"|\b(?:versteckten|geheimen)\s+(?:anweisungen|instruktionen)\b"
        r"|\b(?:ia|ki|ai)\s+(?:sin|ohne|sans)\s+(?:filtros?|filtres?|filter|restricciones|restrictions?|"
        r"einschrankungen|regles|reglas|regeln)\b"
        r"|\b(?:responde|antworte|reponds|repondez)\s+(?:[a-z]+\s+){0,3}?(?:sin|ohne|sans)\s+"
        r"(?:aucune?\s+|jegliche\s+)?(?:restricciones|restrictions?|einschrankungen|filtros?|filtres?|filter|"
        r"citar\s+fuentes|censura|censure)\b",
    ),
)

# Rules for text whose letters were spaced out ("i g n o r e a l l ..."): word breaks are lost,
# so these match the letters alone.
COMPACT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    _rule(
        "dismiss_instructions",
        r"(?:ignore|disregard|forget)(?:all|any|the|your)*(?:previous|prior|above|earlier|preceding|initial|"
        r"original|system)?(?:instructions|prompts?|rules|directives|guidelines)",
    ),
    _rule(
        "reveal_prompt",
        r"(?:reveal|print|show|output|repeat|display)(?:me)?(?:your|the)(?:system|initial|hidden|original|"
        r"secret)(?:prompt|instructions)|systemprompt",
    ),
    _rule("do_anything_now", r"doanythingnow|(?:actas|youarenow|youare)dan"),
    _rule("special_mode", r"developermode|jailbreak|godmode"),
)
