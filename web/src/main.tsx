// The web interface of ha-api: a login form, then the status, resources,
// rules, groups and nodes views, each at its own #/path. Warnings that
// matter everywhere (a node being fenced, no quorum, a lost connection)
// stand above every view.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { currentSession, login, logout, whenLoggedOut, type Session } from './api';
import { entriesOf, useLiveStatus, type LiveStatus } from './status';
import { ErrorBox, Field, TextInput, failureOf, type Failure } from './ui';
import { GroupsView } from './views/groups';
import { NodesView } from './views/nodes';
import { ResourcesView } from './views/resources';
import { RulesView } from './views/rules';
import { StatusView } from './views/status';
import './style.css';

const VIEWS = ['status', 'resources', 'rules', 'groups', 'nodes'] as const;
type ViewName = (typeof VIEWS)[number];

function viewFromHash(): ViewName {
  const name = window.location.hash.replace(/^#\/?/, '');
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : 'status';
}

function useHashView(): ViewName {
  const [view, setView] = useState(viewFromHash());
  useEffect(() => {
    const onChange = () => setView(viewFromHash());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return view;
}

function Login({ onLogin }: { onLogin(session: Session): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      onLogin(await login(username.trim(), password.trim()));
    } catch (err) {
      setFailure(failureOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="form card">
        <h1>HA manager</h1>
        <p class="muted">Log in with an API token (create one with <code>ha-api token add</code>).</p>
        <Field label="Token ID" name="username" failure={failure}>
          <TextInput name="username" value={username} onValue={setUsername} placeholder="root@pam!ops" autoComplete="username" autoFocus />
        </Field>
        <Field label="Secret" name="password" failure={failure}>
          <input type="password" name="password" value={password} autoComplete="current-password" onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </Field>
        <ErrorBox failure={failure} />
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

/** What an operator must see whatever view is open. */
function Alerts({ live }: { live: LiveStatus }) {
  const fenced = entriesOf(live.view, 'node').filter((node) => node.state === 'fence');
  const unknown = entriesOf(live.view, 'node').filter((node) => node.state === 'unknown');
  const quorum = live.view?.quorum;
  return (
    <div class="alerts">
      {fenced.map((node) => (
        <div key={String(node.node)} class="alert bad" role="alert" data-alert="fence">
          Node <strong>{String(node.node)}</strong> is being fenced: its resources will be recovered on other nodes once it is known to be off.
        </div>
      ))}
      {unknown.map((node) => (
        <div key={String(node.node)} class="alert warn" data-alert="unknown">
          Node <strong>{String(node.node)}</strong> is not reachable (state unknown).
        </div>
      ))}
      {quorum !== undefined && !quorum.quorate && (
        <div class="alert bad" role="alert">
          No quorum on {String(quorum.node)}: the HA configuration cannot be changed and the HA stack waits.
        </div>
      )}
      {live.problem !== undefined && (
        <div class="alert bad" role="alert" data-alert="problem">
          Cannot read the cluster status: {live.problem}
        </div>
      )}
      {!live.connected && live.view !== undefined && <div class="alert warn">Connection to ha-api lost; reconnecting…</div>}
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | undefined | null>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const [notice, setNotice] = useState<{ text: string; at: number } | undefined>(undefined);
  const view = useHashView();
  const live = useLiveStatus(session !== undefined && session !== null);

  useEffect(() => {
    whenLoggedOut(() => setSession(null));
    currentSession().then(
      (s) => setSession(s ?? null),
      (err: unknown) => {
        setFailure(failureOf(err));
        setSession(null);
      },
    );
  }, []);
  useEffect(() => {
    if (notice === undefined) return undefined;
    const timer = setTimeout(() => setNotice(undefined), 6000);
    return () => clearTimeout(timer);
  }, [notice]);

  if (session === undefined) return <main class="loading">Loading…</main>;
  if (session === null) {
    return (
      <>
        <ErrorBox failure={failure} />
        <Login onLogin={setSession} />
      </>
    );
  }
  const admin = session.role === 'admin';
  const notify = (text: string) => setNotice({ text, at: Date.now() });
  return (
    <>
      <header class="top">
        <span class="brand">HA manager</span>
        <nav>
          {VIEWS.map((name) => (
            <a key={name} href={`#/${name}`} class={name === view ? 'current' : undefined}>
              {name[0].toUpperCase() + name.slice(1)}
            </a>
          ))}
        </nav>
        <span class={`live ${live.connected ? 'on' : 'off'}`} title={live.updated ? `last update ${new Date(live.updated).toLocaleTimeString()}` : ''}>
          {live.connected ? 'live' : 'offline'}
        </span>
        <span class="user">
          {session.username} ({session.role})
        </span>
        <button type="button" class="secondary small" onClick={() => void logout().finally(() => setSession(null))}>
          Log out
        </button>
      </header>
      <Alerts live={live} />
      {notice && (
        <div class="notice-toast" role="status">
          {notice.text}
        </div>
      )}
      <main>
        {view === 'status' && <StatusView live={live} admin={admin} notify={notify} />}
        {view === 'resources' && <ResourcesView live={live} admin={admin} notify={notify} />}
        {view === 'rules' && <RulesView admin={admin} notify={notify} />}
        {view === 'groups' && <GroupsView admin={admin} notify={notify} />}
        {view === 'nodes' && <NodesView live={live} admin={admin} notify={notify} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
