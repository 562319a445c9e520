"""E-mail beside Telegram (SPEC 15): the mail sender, how a message becomes a
mail, and the pages the links of mails open. The rules (who gets what by
e-mail, what a link says) live in `bot.core.mail_routing` and
`bot.core.mail_links`; this package is their edge to SMTP and HTTP."""
