export {
  type Compiled,
  type Content,
  compile,
  type Rendered,
  render,
  renderSubject,
  type Variables,
} from "./render";
