//! The generate dialog's view of what a generation would send: the key asks the runtime
//! to build the first request (off the UI thread, nothing sent), the answer fills a
//! scrollable view over the dialog, and Esc goes back to the dialog as it was.

use super::*;

/// The dialog's key: the request for the generation filled in, or, for the offline
/// generator, a message that nothing is sent.
pub(super) fn show_request(app: &mut App, mut d: GenDialog) -> (Option<Modal>, Vec<Effect>) {
    let Some(mut spec) = dialog_spec(app, &mut d) else {
        return (Some(Modal::Generate(d)), Vec::new());
    };
    if app.providers.get(d.provider).map(|p| p.choice) == Some(ProviderChoice::Offline) {
        app.toast(
            Level::Info,
            "The offline generator makes the rows on this machine: nothing is sent to a model.",
        );
        return (Some(Modal::Generate(d)), Vec::new());
    }
    // An empty table is generated from its schema once the user agrees: show that request.
    spec.from_schema = app.count_of(&spec.table) == Some(0);
    let title = format!("First request for '{}' · nothing is sent", spec.table);
    app.modal = Some(Modal::Request(Box::new(RequestView {
        view: CellView {
            title,
            text: None,
            scroll: 0,
        },
        spec: spec.clone(),
        dialog: d,
    })));
    (None, vec![Effect::ShowPrompt(spec)])
}

/// Scrolls the request; `y` copies it; Esc, Enter or `q` go back to the dialog.
pub(super) fn on_request_key(
    app: &mut App,
    mut r: RequestView,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    match key.code {
        KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {
            (Some(Modal::Generate(r.dialog)), Vec::new())
        }
        KeyCode::Char('y') => match r.view.text.clone() {
            Some(text) => {
                app.toast(Level::Info, "Copied the request to the clipboard (OSC 52).");
                (Some(Modal::Request(Box::new(r))), vec![Effect::Copy(text)])
            }
            None => (Some(Modal::Request(Box::new(r))), Vec::new()),
        },
        code => {
            scroll_text(app, &mut r.view, code);
            (Some(Modal::Request(Box::new(r))), Vec::new())
        }
    }
}

/// The request arrived: shown, if the view still waits for it; a failure goes back to
/// the dialog with its sentence.
pub(super) fn on_prompt_shown(
    app: &mut App,
    spec: &GenSpec,
    result: Result<PromptPreview, GenerateError>,
) -> Vec<Effect> {
    let waiting = matches!(
        app.modal.as_ref(),
        Some(Modal::Request(r)) if r.spec == *spec && r.view.text.is_none()
    );
    if !waiting {
        return Vec::new();
    }
    let Some(Modal::Request(mut r)) = app.modal.take() else {
        return Vec::new();
    };
    match result {
        Ok(shown) => {
            r.view.text = Some(shown.text());
            app.modal = Some(Modal::Request(r));
        }
        Err(error) => {
            let mut dialog = r.dialog;
            dialog.error = Some(error.to_string());
            app.modal = Some(Modal::Generate(dialog));
        }
    }
    Vec::new()
}
