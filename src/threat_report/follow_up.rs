//! Follow-up between the reporter and the recipient: the reply and handling forms.

use crate::core::ids::CustomId;
use crate::core::reply::{clip, limits};
use crate::core::{Modal, TextInput};
use crate::i18n::{t, Locale};
use crate::threat_report::ids::{Form, ReportId};

pub(super) fn reply_modal(locale: Locale, id: i64, form: Form) -> Modal {
    let form_id = ReportId::Form { report: id, form }.format();
    let handle = form == Form::Handle;
    let (key, title) = if handle {
        ("report.handle-label", "report.handle-title")
    } else {
        ("report.reply-label", "report.reply-title")
    };
    Modal {
        custom_id: form_id,
        title: clip(&t(locale, title, &[]), limits::MODAL_TITLE),
        inputs: vec![TextInput {
            custom_id: "text".into(),
            label: clip(&t(locale, key, &[]), limits::TEXT_INPUT_LABEL),
            paragraph: true,
            required: !handle,
            min_length: None,
            max_length: Some(1800),
            placeholder: None,
            value: None,
        }],
    }
}
