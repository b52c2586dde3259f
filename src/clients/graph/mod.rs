//! Microsoft Graph client.
