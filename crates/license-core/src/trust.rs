//! The one gate for trust changes: every change to what an environment or a
//! workstation trusts, to where it writes, or to what it runs. That is the vendor
//! keys, the portal, proxy and CA bundle, the license file, backup, state and facts
//! paths, the usage source, creating or replacing a configuration, accepting the
//! clock, removing a staged renewal and freeing a slot.
//!
//! A change starts as a [`Proposal`]: the value to apply and the lines a person
//! must confirm. Only [`Proposal::confirm`] makes it a [`Confirmed`] value, and only
//! after a [`Confirmer`] said yes: the desktop app's native dialog (drawn outside the
//! webview), or `licensectl`'s command line, where the subcommand or flag that names
//! the change is the confirmation. Every function that applies such a change takes
//! a `Confirmed`. It has no public constructor and derives nothing (no
//! `Deserialize`, `Default` or `Clone`), so no argument the webview sends can become
//! one: the compiler keeps the page out. The app's gate test walks every command
//! with the dialog answering "no" (tests/e2e).

use crate::error::Error;

/// Someone outside the page who answers yes or no to a list of changes.
pub trait Confirmer {
    /// Shows `title` and `changes` and says whether the person confirmed them. It
    /// may block (a dialog, a prompt): callers run it off async threads.
    fn confirm(&self, title: &str, changes: &[String]) -> bool;
}

/// A change that waits for a confirmation: what it would do, in words.
#[must_use = "a proposal changes nothing until it is confirmed and applied"]
pub struct Proposal<T> {
    value: T,
    title: String,
    changes: Vec<String>,
}

impl<T> Proposal<T> {
    pub(crate) fn new(value: T, title: impl Into<String>, changes: Vec<String>) -> Self {
        Self { value, title: title.into(), changes }
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub(crate) fn into_value(self) -> T {
        self.value
    }

    /// One line per change, as the person is asked to confirm it.
    pub fn changes(&self) -> &[String] {
        &self.changes
    }

    /// Asks `by` when there is anything to confirm; a proposal that changes nothing
    /// trusted passes as it is. A "no" is [`Error::NotConfirmed`], and nothing changed.
    pub fn confirm(self, by: &impl Confirmer) -> Result<Confirmed<T>, Error> {
        if self.changes.is_empty() || by.confirm(&self.title, &self.changes) {
            tracing::info!(title = %self.title, changes = ?self.changes, "trust change confirmed");
            return Ok(Confirmed(self.value));
        }
        tracing::info!(title = %self.title, "trust change not confirmed; nothing changed");
        Err(Error::NotConfirmed { what: self.title })
    }
}

/// A change a person confirmed outside the page. Only [`Proposal::confirm`] makes one.
#[must_use = "a confirmed change still has to be applied"]
pub struct Confirmed<T>(T);

impl<T> Confirmed<T> {
    pub(crate) fn into_inner(self) -> T {
        self.0
    }

    pub(crate) fn get(&self) -> &T {
        &self.0
    }

    /// What the core makes itself, where nothing that was trusted changes: the demo
    /// environment, in a folder the core creates for it. Never for input from outside.
    pub(crate) fn made_by_the_core(value: T) -> Self {
        Confirmed(value)
    }
}

/// `licensectl`'s confirmer: each trust change there is a subcommand or flag that
/// names it (`init`, `clock --accept`, `staged remove`), typed by a person at a
/// shell or written into a script by one, so the command line is the confirmation.
pub struct CommandLine;

impl Confirmer for CommandLine {
    fn confirm(&self, title: &str, changes: &[String]) -> bool {
        tracing::info!(%title, ?changes, "confirmed on the command line");
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Answer(bool, std::cell::Cell<usize>);
    impl Confirmer for Answer {
        fn confirm(&self, _: &str, _: &[String]) -> bool {
            self.1.set(self.1.get() + 1);
            self.0
        }
    }

    #[test]
    fn a_no_is_not_confirmed_and_an_empty_proposal_asks_nobody() {
        let no = Answer(false, Default::default());
        let e = Proposal::new(1, "Change it?", vec!["a".into()]).confirm(&no).err().unwrap();
        assert_eq!(e.code(), crate::ErrorCode::NotConfirmed);
        assert!(e.to_string().contains("Change it?"), "{e}");
        assert_eq!(no.1.get(), 1);
        let nothing = Proposal::new(2, "Change it?", vec![]).confirm(&no).unwrap();
        assert_eq!(nothing.into_inner(), 2);
        assert_eq!(no.1.get(), 1, "nothing to confirm: nobody is asked");
        let yes = Answer(true, Default::default());
        assert_eq!(Proposal::new(3, "t", vec!["a".into()]).confirm(&yes).unwrap().into_inner(), 3);
    }
}
