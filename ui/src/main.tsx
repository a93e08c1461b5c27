// The console's entry point: styles (xterm.js, asciinema-player, ours) and the app.
import '@xterm/xterm/css/xterm.css'
import 'asciinema-player/dist/bundle/asciinema-player.css'
import './styles.css'
import { render } from 'preact'
import { App } from './app.tsx'

render(<App />, document.getElementById('app') as HTMLElement)
