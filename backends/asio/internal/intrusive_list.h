// File: backends/asio/internal/intrusive_list.h
//
// IntrusiveList<T, Tag>: a doubly-linked list whose links live in the
// elements (T derives from ListLinks<Tag>, one base per list an object can be
// in), so tracking an object costs no allocation and removing it is O(1).
// Private to the backend: the ContextRegistry keeps its shutdown hooks in one
// (every stream and server), a server keeps its active connections in one.
//
//   struct Conn : ListLinks<struct ServerTag> { ... };
//   IntrusiveList<Conn, ServerTag> active;
//   active.push_back(conn);   // conn.linked()
//   active.remove(conn);      // O(1); a no-op if conn is not linked
//
// Invariants: an element is in at most one list per Tag; remove() is given
// only elements of this list or unlinked ones. The list does not own its
// elements: an element must be removed (or the list cleared) before it is
// destroyed, and the list must not move (its head is a node).
//
// Threading: none (callers lock).

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_INTRUSIVE_LIST_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_INTRUSIVE_LIST_H_

#include <cstddef>

namespace sluice::asio_backend_internal {

template <typename T, typename Tag>
class IntrusiveList;

// ListLinks<Tag>: an element's place in an IntrusiveList<T, Tag> (two
// pointers; null while unlinked).
template <typename Tag>
class ListLinks {
 public:
  ListLinks() = default;
  // Links belong to the object's place, not its value.
  ListLinks(const ListLinks&) = delete;
  ListLinks& operator=(const ListLinks&) = delete;

  bool linked() const { return next_ != nullptr; }

 private:
  template <typename, typename>
  friend class IntrusiveList;

  ListLinks* prev_ = nullptr;
  ListLinks* next_ = nullptr;
};

template <typename T, typename Tag>
class IntrusiveList {
 public:
  IntrusiveList() { head_.prev_ = head_.next_ = &head_; }
  ~IntrusiveList() { clear(); }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // push_back: link `item` (not linked yet) at the end.
  void push_back(T& item) {
    ListLinks<Tag>& l = links(item);
    l.prev_ = head_.prev_;
    l.next_ = &head_;
    head_.prev_->next_ = &l;
    head_.prev_ = &l;
    ++size_;
  }

  // remove: unlink `item`; a no-op if it is not linked.
  void remove(T& item) {
    ListLinks<Tag>& l = links(item);
    if (!l.linked()) return;
    l.prev_->next_ = l.next_;
    l.next_->prev_ = l.prev_;
    l.prev_ = l.next_ = nullptr;
    --size_;
  }

  // clear: unlink every element.
  void clear() {
    for (ListLinks<Tag>* l = head_.next_; l != &head_;) {
      ListLinks<Tag>* next = l->next_;
      l->prev_ = l->next_ = nullptr;
      l = next;
    }
    head_.prev_ = head_.next_ = &head_;
    size_ = 0;
  }

  // for_each: f(T&) for every element, first to last. `f` must not change
  // the list (collect what it needs, then act).
  template <typename F>
  void for_each(F&& f) const {
    for (ListLinks<Tag>* l = head_.next_; l != &head_; l = l->next_) f(static_cast<T&>(*l));
  }

 private:
  static ListLinks<Tag>& links(T& item) { return static_cast<ListLinks<Tag>&>(item); }

  ListLinks<Tag> head_;
  std::size_t size_ = 0;
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_INTRUSIVE_LIST_H_
