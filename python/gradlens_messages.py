"""Messages for the user, in English, that remember what they were made of so the extension can show
them in the display language: src/runner/python/tracerMessages.ts translates each template (the same
text, with {0}-style holes). A message is still a plain str wherever it goes."""


class Said(str):
    """English text plus its parts: [template, arg, ...] each, in order."""

    def __new__(cls, text, parts):
        self = str.__new__(cls, text)
        self.parts = parts
        return self

    def __add__(self, other):
        if isinstance(other, Said):
            return Said(str(self) + str(other), self.parts + other.parts)
        return str(self) + other  # text of unknown origin: the whole message stays English


def said(template, *args):
    text = template
    for index, arg in enumerate(args):
        text = text.replace("{%d}" % index, str(arg))
    return Said(text, [[template] + [str(arg) for arg in args]])


def message_fields(message, key="message"):
    """The "message" of an error dict (or the "text" of a console line), and its "l10n" parts when it
    was said()."""
    fields = {key: str(message)}
    if isinstance(message, Said):
        fields["l10n"] = message.parts
    return fields
