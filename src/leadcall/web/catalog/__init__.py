"""Parts of the web catalog kept beside `web.i18n`, one file per domain, merged into its MESSAGES."""
