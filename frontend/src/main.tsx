import { render } from "preact";
import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from "preact-iso";
import { Alert } from "./components";
import { useAction } from "./hooks";
import { ForgotPassword, ResetPassword, VerifyEmail } from "./pages/Account";
import { Login, Register } from "./pages/Auth";
import { Dashboard } from "./pages/Dashboard";
import { JobPage } from "./pages/Job";
import { MyApplications, Payments } from "./pages/Lists";
import { NewJob } from "./pages/NewJob";
import { Bell, NotificationsPage } from "./pages/Notifications";
import { Search } from "./pages/Search";
import { ThreadPage } from "./pages/Thread";
import { ProfilePage, UserPage } from "./pages/Users";
import { logOut, restoreSession, useSession } from "./session";
import "./styles.css";

function Header() {
  const session = useSession();
  const { route } = useLocation();
  const signOut = useAction(async () => {
    await logOut();
    route("/login");
  });
  const me = session.status === "signed-in" ? session.me : null;
  return (
    <header class="top">
      <nav aria-label="Main">
        <a class="brand" href="/">
          Marketplace
        </a>
        <a href="/">Jobs</a>
        {me?.role === "client" ? (
          <>
            <a href="/dashboard">Dashboard</a>
            <a href="/jobs/new">Post a job</a>
          </>
        ) : null}
        {me?.role === "worker" ? <a href="/applications">My applications</a> : null}
        {me ? (
          <>
            <a href="/payments">Payments</a>
            <a href="/profile">Profile</a>
          </>
        ) : null}
      </nav>
      <div class="who">
        {me ? (
          <>
            <Bell key={me.id} />
            <a href={`/users/${me.id}`}>{me.full_name}</a>
            <button type="button" class="secondary small" onClick={() => void signOut.run()} disabled={signOut.pending}>
              Sign out
            </button>
          </>
        ) : session.status === "anonymous" ? (
          <>
            <a href="/login">Sign in</a>
            <a href="/register">Create account</a>
          </>
        ) : null}
      </div>
      <Alert problem={signOut.error} />
    </header>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <a href="/">Find work</a>
      </p>
    </section>
  );
}

export function App() {
  return (
    <LocationProvider>
      <Header />
      <main id="main">
        <ErrorBoundary>
          <Router>
            <Route path="/" component={Search} />
            <Route path="/login" component={Login} />
            <Route path="/register" component={Register} />
            <Route path="/jobs/new" component={NewJob} />
            <Route path="/jobs/:id" component={JobPage} />
            <Route path="/dashboard" component={Dashboard} />
            <Route path="/applications" component={MyApplications} />
            <Route path="/applications/:id" component={ThreadPage} />
            <Route path="/notifications" component={NotificationsPage} />
            <Route path="/forgot-password" component={ForgotPassword} />
            <Route path="/reset-password" component={ResetPassword} />
            <Route path="/verify-email" component={VerifyEmail} />
            <Route path="/payments" component={Payments} />
            <Route path="/users/:id" component={UserPage} />
            <Route path="/profile" component={ProfilePage} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </main>
    </LocationProvider>
  );
}

void restoreSession();
render(<App />, document.getElementById("app")!);
