// Openbaar: the sources under an answer (a Chainlit custom element; props from assistant/interfaces/chat/sources.py).
// A compact numbered list: number, title, date. A row opens to speaker, a link to the original and "show in the
// source", which shows the stored text of the document with the quoted sentence highlighted in its paragraph.
// The [n] markers in the answer are links to #<anchor>-<n>: a click opens source n and brings it into view.
// Every text is rendered as a React text node (never as HTML); only http(s) URLs checked by the server are links.
// The dialog is our own (not Radix's): inside the widget's shadow root Radix cannot find its title and logs an
// error, and Escape must close only the dialog, not the widget around it.
import { useEffect, useRef, useState } from 'react';
import { BookOpen, ChevronDown, ChevronRight, ExternalLink, X } from 'lucide-react';

function readProps(value) {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch (e) {
      return {};
    }
  }
  return value || {};
}

const muted = { color: 'hsl(var(--muted-foreground))' };

function highlighted(paragraph, mark, markRef) {
  const text = String(paragraph.text || '');
  if (!mark) return text;
  const from = Math.max(mark[0], paragraph.start) - paragraph.start;
  const to = Math.min(mark[1], paragraph.start + text.length) - paragraph.start;
  if (from >= to) return text;
  return [
    text.slice(0, from),
    <mark
      key="mark"
      ref={from === mark[0] - paragraph.start ? markRef : undefined}
      style={{ background: 'hsl(48 96% 72%)', color: 'hsl(0 0% 8%)', borderRadius: '2px', padding: '0 1px' }}
    >
      {text.slice(from, to)}
    </mark>,
    text.slice(to)
  ];
}

export default function OpenbaarSources() {
  const data = readProps(props);
  const sources = Array.isArray(data.sources) ? data.sources : [];
  const passages = data.passages || {};
  const labels = data.labels || {};
  const anchor = String(data.anchor || '');
  const [opened, setOpened] = useState({});
  const [shown, setShown] = useState(null);
  const listRef = useRef(null);
  const dialogRef = useRef(null);
  const closeRef = useRef(null);
  const openerRef = useRef(null);
  const markRef = useRef(null);

  // A click on [n] in the answer above opens source n and brings it into view.
  useEffect(() => {
    const list = listRef.current;
    if (!list || !anchor) return undefined;
    const root = list.getRootNode();
    const prefix = '#' + anchor + '-';
    const onClick = (event) => {
      const path = event.composedPath ? event.composedPath() : [event.target];
      const link = path.find(
        (el) => el && el.tagName === 'A' && (el.getAttribute('href') || '').startsWith(prefix)
      );
      if (!link) return;
      event.preventDefault();
      event.stopPropagation();
      const n = Number(link.getAttribute('href').slice(prefix.length));
      setOpened((state) => ({ ...state, [n]: true }));
      setTimeout(() => {
        const item = list.querySelector('[data-source="' + n + '"]');
        if (!item) return;
        item.scrollIntoView({ block: 'center' });
        const toggle = item.querySelector('button');
        if (toggle) toggle.focus({ preventScroll: true });
      }, 30);
    };
    root.addEventListener('click', onClick, true);
    return () => root.removeEventListener('click', onClick, true);
  }, [anchor]);

  // The opened source: focus in the dialog, its highlighted quote in view; Escape (before anything else on the
  // page sees it) and Tab stay inside; closing gives the focus back to the button that opened it.
  useEffect(() => {
    if (!shown) return undefined;
    const dialog = dialogRef.current;
    const opener = openerRef.current;
    const timer = setTimeout(() => {
      if (closeRef.current) closeRef.current.focus({ preventScroll: true });
      if (markRef.current) markRef.current.scrollIntoView({ block: 'center' });
    }, 30);
    const onKey = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        setShown(null);
      } else if (event.key === 'Tab' && dialog) {
        const focusable = [...dialog.querySelectorAll('button, a[href], [tabindex="0"]')];
        if (!focusable.length) return;
        const active = dialog.getRootNode().activeElement;
        const index = focusable.indexOf(active);
        const next = event.shiftKey
          ? (index <= 0 ? focusable.length - 1 : index - 1)
          : (index === -1 || index === focusable.length - 1 ? 0 : index + 1);
        event.preventDefault();
        focusable[next].focus();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      clearTimeout(timer);
      window.removeEventListener('keydown', onKey, true);
      if (opener && opener.isConnected) opener.focus({ preventScroll: true });
    };
  }, [shown]);

  if (!sources.length) return null;
  const passage = shown && shown.passage ? passages[shown.passage] : null;
  const toggle = (n) => setOpened((state) => ({ ...state, [n]: !state[n] }));

  return (
    <section
      ref={listRef}
      aria-label={labels.heading}
      className="openbaar-sources"
      style={{ fontSize: '0.875rem', lineHeight: 1.4, borderTop: '1px solid hsl(var(--border))', paddingTop: '0.4rem' }}
    >
      <div style={{ ...muted, fontSize: '0.75rem', fontWeight: 600, margin: '0 0 0.15rem 0.35rem' }}>
        {labels.heading}
      </div>
      <ol style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {sources.map((source) => {
          const isOpen = !!opened[source.n];
          const detailsId = anchor + '-' + source.n + '-details';
          return (
            <li key={source.n} id={anchor + '-' + source.n} data-source={source.n} style={{ margin: 0, padding: 0 }}>
              <button
                type="button"
                aria-expanded={isOpen}
                aria-controls={detailsId}
                onClick={() => toggle(source.n)}
                style={{
                  display: 'flex', alignItems: 'center', gap: '0.5rem', width: '100%', textAlign: 'left',
                  padding: '0.2rem 0.35rem', border: 0, borderRadius: '0.375rem', background: 'transparent',
                  color: 'inherit', font: 'inherit', cursor: 'pointer'
                }}
              >
                <span
                  style={{
                    flex: '0 0 auto', minWidth: '1.4rem', height: '1.4rem', borderRadius: '999px',
                    display: 'inline-flex', alignItems: 'center', justifyContent: 'center', fontSize: '0.75rem',
                    fontWeight: 600, background: 'hsl(var(--accent))', color: 'hsl(var(--accent-foreground))'
                  }}
                >
                  {source.n}
                </span>
                <span style={{ flex: '1 1 auto', minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                  {source.title}
                </span>
                {source.date ? (
                  <span style={{ ...muted, flex: '0 0 auto', fontSize: '0.75rem' }}>{source.date}</span>
                ) : null}
                {isOpen ? (
                  <ChevronDown aria-hidden="true" style={{ flex: '0 0 auto', width: '1rem', height: '1rem' }} />
                ) : (
                  <ChevronRight aria-hidden="true" style={{ flex: '0 0 auto', width: '1rem', height: '1rem' }} />
                )}
              </button>
              {isOpen ? (
                <div id={detailsId} style={{ padding: '0.15rem 0.35rem 0.5rem 2.25rem' }}>
                  {source.quote ? (
                    <blockquote style={{ margin: '0 0 0.35rem', paddingLeft: '0.6rem', borderLeft: '3px solid hsl(var(--border))' }}>
                      {'“' + source.quote + '”'}
                    </blockquote>
                  ) : null}
                  {String(source.title || '').length > 48 ? <div>{source.title}</div> : null}
                  {source.meta ? <div style={muted}>{source.meta}</div> : null}
                  {source.note ? <div style={{ ...muted, fontStyle: 'italic' }}>{source.note}</div> : null}
                  <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '0.75rem', marginTop: '0.35rem' }}>
                    {source.passage && passages[source.passage] ? (
                      <button
                        type="button"
                        onClick={(event) => {
                          openerRef.current = event.currentTarget;
                          setShown(source);
                        }}
                        style={{
                          display: 'inline-flex', alignItems: 'center', gap: '0.35rem', padding: '0.25rem 0.6rem',
                          borderRadius: '0.375rem', border: '1px solid hsl(var(--border))',
                          background: 'hsl(var(--background))', color: 'inherit', font: 'inherit', cursor: 'pointer'
                        }}
                      >
                        <BookOpen aria-hidden="true" style={{ width: '1rem', height: '1rem' }} />
                        {labels.show}
                      </button>
                    ) : null}
                    {source.url ? (
                      <a
                        href={source.url}
                        target="_blank"
                        rel="noopener noreferrer"
                        style={{ display: 'inline-flex', alignItems: 'center', gap: '0.3rem', color: 'hsl(var(--primary))' }}
                      >
                        {labels.open}
                        <ExternalLink aria-hidden="true" style={{ width: '0.9rem', height: '0.9rem' }} />
                      </a>
                    ) : null}
                  </div>
                </div>
              ) : null}
            </li>
          );
        })}
      </ol>
      {shown ? (
        <div
          onMouseDown={(event) => { if (event.target === event.currentTarget) setShown(null); }}
          style={{
            position: 'fixed', inset: 0, zIndex: 60, background: 'rgba(0, 0, 0, 0.6)', display: 'flex',
            alignItems: 'center', justifyContent: 'center', padding: '0.75rem'
          }}
        >
          <div
            ref={dialogRef}
            role="dialog"
            aria-modal="true"
            aria-labelledby={anchor + '-dialog-title'}
            aria-describedby={anchor + '-dialog-note'}
            style={{
              display: 'flex', flexDirection: 'column', gap: '0.75rem', width: 'min(46rem, 100%)',
              maxHeight: 'min(86vh, 100%)', padding: '1.1rem 1.25rem', borderRadius: '0.75rem',
              border: '1px solid hsl(var(--border))', background: 'hsl(var(--background))',
              color: 'hsl(var(--foreground))', boxShadow: '0 12px 40px rgba(0, 0, 0, 0.35)', fontSize: '1rem',
              lineHeight: 1.5, textAlign: 'left'
            }}
          >
            <div style={{ display: 'flex', alignItems: 'flex-start', gap: '0.75rem' }}>
              <div style={{ flex: '1 1 auto', minWidth: 0 }}>
                <h2 id={anchor + '-dialog-title'} style={{ margin: 0, fontSize: '1.05rem', fontWeight: 600, lineHeight: 1.35 }}>
                  {shown.title}
                </h2>
                <p id={anchor + '-dialog-note'} style={{ ...muted, margin: '0.2rem 0 0', fontSize: '0.85rem' }}>
                  {[shown.date, shown.meta].filter(Boolean).join(' · ')}
                  {shown.date || shown.meta ? ' — ' : ''}
                  {labels.note}
                </p>
              </div>
              <button
                ref={closeRef}
                type="button"
                aria-label={labels.close}
                title={labels.close}
                onClick={() => setShown(null)}
                style={{
                  flex: '0 0 auto', display: 'inline-flex', alignItems: 'center', justifyContent: 'center',
                  width: '2rem', height: '2rem', borderRadius: '999px', border: '1px solid hsl(var(--border))',
                  background: 'transparent', color: 'inherit', cursor: 'pointer'
                }}
              >
                <X aria-hidden="true" style={{ width: '1rem', height: '1rem' }} />
              </button>
            </div>
            <div style={{ overflowY: 'auto', minHeight: 0, lineHeight: 1.6, fontSize: '0.95rem', paddingRight: '0.25rem' }}>
              {passage && passage.before ? <p style={{ ...muted, margin: '0 0 0.75rem' }}>{labels.before}</p> : null}
              {passage
                ? passage.paragraphs.map((paragraph) => (
                    <p key={paragraph.start} style={{ whiteSpace: 'pre-line', margin: '0 0 0.75rem' }}>
                      {highlighted(paragraph, shown.mark, markRef)}
                    </p>
                  ))
                : null}
              {passage && passage.after ? <p style={{ ...muted, margin: 0 }}>{labels.after}</p> : null}
            </div>
            {shown.url ? (
              <a
                href={shown.url}
                target="_blank"
                rel="noopener noreferrer"
                style={{ display: 'inline-flex', alignItems: 'center', gap: '0.3rem', color: 'hsl(var(--primary))' }}
              >
                {labels.open}
                <ExternalLink aria-hidden="true" style={{ width: '0.9rem', height: '0.9rem' }} />
              </a>
            ) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}
