//! The catalog: an entry is created once and replaced after, and reads back as written.

use crate::*;

pub async fn event_types_are_created_then_replaced(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let type_name = EventTypeName::parse("charge.refunded").unwrap();
    let draft = |description: &str, now: Timestamp| EventTypeDraft {
        name: type_name.clone(),
        description: description.into(),
        resource_type: Some("charge".into()),
        resource_version: None,
        sample: Some("{\"id\":\"ch_1\"}".into()),
        schema: None,
        now,
    };
    let first = Timestamp::now();
    let (created, was_new) = store.put_event_type(draft("A refund", first)).await.unwrap();
    assert!(was_new, "{name}");
    assert_eq!((created.description.as_str(), created.sample.as_deref()), ("A refund", Some("{\"id\":\"ch_1\"}")));
    let second = first.plus(Duration::from_secs(1));
    let (replaced, was_new) = store.put_event_type(draft("A charge was refunded", second)).await.unwrap();
    assert!(!was_new, "{name}: the second put replaces");
    assert_eq!((replaced.created_at, replaced.updated_at), (first, second), "{name}");
    let read = store.get_event_type(&type_name).await.unwrap().unwrap();
    assert_eq!(read.description, "A charge was refunded", "{name}");
    let all = store.list_event_types().await.unwrap();
    assert_eq!(all.iter().filter(|t| t.name == type_name).count(), 1, "{name}");
    assert!(store.get_event_type(&EventTypeName::parse("no.such").unwrap()).await.unwrap().is_none(), "{name}");
}

contract!(event_types_are_created_then_replaced);
