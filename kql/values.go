package kql

// valueTree is a value list before its field is known (Kibana's "partial"):
// f:(a or not b) distributes f over the list.
type valueTree interface{ apply(field Term) Node }

type (
	valueLeaf struct{ v Term }
	valueOr   []valueTree
	valueAnd  []valueTree
	valueNot  struct{ t valueTree }
)

func (l valueLeaf) apply(f Term) Node { return &IsNode{Field: f, Value: l.v} }
func (o valueOr) apply(f Term) Node   { return &OrNode{Children: applyAll(o, f)} }
func (a valueAnd) apply(f Term) Node  { return &AndNode{Children: applyAll(a, f)} }
func (n valueNot) apply(f Term) Node  { return &NotNode{Child: n.t.apply(f)} }

func applyAll(ts []valueTree, f Term) []Node {
	nodes := make([]Node, len(ts))
	for i, t := range ts {
		nodes[i] = t.apply(f)
	}
	return nodes
}

// ListOfValues <- '(' Space* OrListOfValues Space* ')' / Value
func (p *parser) listOfValues() (valueTree, bool) {
	save := p.pos
	if p.char('(', `"("`) {
		p.enter()
		p.spaces()
		t, ok := p.orValues()
		if ok {
			p.spaces()
			ok = p.char(')', `")"`)
		}
		p.leave()
		if ok {
			return t, true
		}
		p.pos = save
	}
	return p.value()
}

// OrListOfValues <- AndListOfValues (OR AndListOfValues)*
func (p *parser) orValues() (valueTree, bool) {
	head, ok := p.andValues()
	if !ok {
		return nil, false
	}
	var list valueOr
	for {
		save := p.pos
		if !p.binaryKeyword(expOr, "or") {
			break
		}
		t, ok := p.andValues()
		if !ok {
			p.pos = save
			break
		}
		if list == nil {
			list = valueOr{head}
		}
		list = append(list, t)
	}
	if list == nil {
		return head, true
	}
	return list, true
}

// AndListOfValues <- NotListOfValues (AND NotListOfValues)*
func (p *parser) andValues() (valueTree, bool) {
	head, ok := p.notValues()
	if !ok {
		return nil, false
	}
	var list valueAnd
	for {
		save := p.pos
		if !p.binaryKeyword(expAnd, "and") {
			break
		}
		t, ok := p.notValues()
		if !ok {
			p.pos = save
			break
		}
		if list == nil {
			list = valueAnd{head}
		}
		list = append(list, t)
	}
	if list == nil {
		return head, true
	}
	return list, true
}

// NotListOfValues <- NOT ListOfValues / ListOfValues
func (p *parser) notValues() (valueTree, bool) {
	save := p.pos
	if p.notKeyword() {
		if t, ok := p.listOfValues(); ok {
			return valueNot{t}, true
		}
		p.pos = save
	}
	return p.listOfValues()
}
